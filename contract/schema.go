package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
	validatorlib "github.com/santhosh-tekuri/jsonschema/v6"
)

type validator = *validatorlib.Schema

// schemaFor derives the JSON Schema (draft 2020-12, definitions inlined)
// of Go type t, with $id set to uri.
func schemaFor(t reflect.Type, uri string) ([]byte, error) {
	r := &jsonschema.Reflector{DoNotReference: true, AllowAdditionalProperties: true}
	s := r.ReflectFromType(t)
	s.ID = jsonschema.ID(uri)
	return json.Marshal(s)
}

// loadSchema derives the current version's schema once and compiles it
// for validation.
func (df *def) loadSchema() {
	df.schemaOnce.Do(func() {
		uri := df.d.schemaURI(df.Type())
		df.schema, df.schemaErr = schemaFor(df.goType, uri)
		if df.schemaErr != nil || !df.validate {
			return
		}
		doc, err := validatorlib.UnmarshalJSON(bytes.NewReader(df.schema))
		if err != nil {
			df.schemaErr = err
			return
		}
		c := validatorlib.NewCompiler()
		if err := c.AddResource(uri, doc); err != nil {
			df.schemaErr = err
			return
		}
		df.validator, df.schemaErr = c.Compile(uri)
	})
}

// Schema returns the JSON Schema of the current version's Go type.
func (df *def) Schema() ([]byte, error) {
	df.loadSchema()
	if df.schemaErr != nil {
		return nil, fmt.Errorf("contract: schema of %s: %w", df.Type(), df.schemaErr)
	}
	return bytes.Clone(df.schema), nil
}

// check validates JSON data against the current version's schema.
func (df *def) check(data []byte) error {
	df.loadSchema()
	if df.schemaErr != nil {
		return df.schemaErr
	}
	doc, err := validatorlib.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return df.validator.Validate(doc)
}
