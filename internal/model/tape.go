package model

import (
	"reflect"
	"unsafe"

	G "gorgonia.org/gorgonia"
)

// This file is lepton's only access to Gorgonia internals. The tape
// machine's program counter is unexported in Gorgonia v0.9.18 (the version
// go.mod pins; TestTapeProgramCounter fails when another version moves it).

// programCounter returns a pointer to a Gorgonia tape machine's program
// counter, or nil when vm is not one (see rewind).
func programCounter(vm G.VM) *int {
	v := reflect.ValueOf(vm)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("pc")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return nil
	}
	return (*int)(unsafe.Pointer(f.UnsafeAddr()))
}

// rewind readies the tape machine for the next Run. Gorgonia's Reset also
// drops every register, so each Run would allocate (and zero) all of its
// intermediate tensors again; rewinding only the program counter keeps
// them, and the tape's alloc instructions reuse registers of the right
// shape. If the field is not found (another Gorgonia version), Reset is
// used.
func (n *Net) rewind() {
	if n.pc == nil {
		n.vm.Reset()
		return
	}
	*n.pc = 0
}
