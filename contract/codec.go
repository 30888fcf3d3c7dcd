package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"google.golang.org/protobuf/proto"
)

// Content types set in datacontenttype.
const (
	// JSONContentType is the datacontenttype of JSON payloads (the default).
	JSONContentType = "application/json"
	// ProtobufContentType is the datacontenttype of Protobuf payloads.
	ProtobufContentType = "application/protobuf"
)

type codec interface {
	contentType() string
	marshal(v any) ([]byte, error)
	// unmarshal decodes data into a new value of Go type t.
	unmarshal(data []byte, t reflect.Type, strict bool) (any, error)
}

type jsonCodec struct{}

func (jsonCodec) contentType() string           { return JSONContentType }
func (jsonCodec) marshal(v any) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec) unmarshal(data []byte, t reflect.Type, strict bool) (any, error) {
	p := reflect.New(t)
	if err := unmarshalJSON(data, p.Interface(), strict); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

// unmarshalJSON decodes data into ptr; strict rejects unknown fields.
func unmarshalJSON(data []byte, ptr any, strict bool) error {
	if !strict {
		return json.Unmarshal(data, ptr)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ptr); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

type protoCodec struct{}

var protoMessage = reflect.TypeFor[proto.Message]()

func (protoCodec) contentType() string { return ProtobufContentType }

func (protoCodec) marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a proto.Message", v)
	}
	return proto.Marshal(m)
}

func (protoCodec) unmarshal(data []byte, t reflect.Type, _ bool) (any, error) {
	if t.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("%v is not a pointer to a proto message", t)
	}
	v := reflect.New(t.Elem()).Interface()
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%v is not a proto.Message", t)
	}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, err
	}
	return v, nil
}

// checkProto reports whether t can be used with the Protobuf codec.
func checkProto(t reflect.Type) error {
	if t.Kind() != reflect.Pointer || !t.Implements(protoMessage) {
		return declErr("Protobuf: %v does not implement proto.Message (use the generated pointer type)", t)
	}
	return nil
}
