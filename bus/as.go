package bus

import "reflect"

// setNative sets *target to native when target is a non-nil pointer to a
// type native is assignable to (its own type, or an interface it
// implements), and reports whether it did. It is the one place the bus
// uses reflection, off the hot path.
func setNative(native, target any) bool {
	tv := reflect.ValueOf(target)
	if tv.Kind() != reflect.Pointer || tv.IsNil() {
		return false
	}
	nv := reflect.ValueOf(native)
	if !nv.Type().AssignableTo(tv.Elem().Type()) {
		return false
	}
	tv.Elem().Set(nv)
	return true
}
