package audit

import (
	"encoding/json"
)

// ReflectJSON is the encoding/json encoding of the record, MarshalJSON as it was before
// AppendJSON: the reference AppendJSON must match byte for byte.
func ReflectJSON(e *Event) ([]byte, error) {
	type plain Event
	var t string
	if !e.EventTime.IsZero() {
		t = e.EventTime.UTC().Format(timeFormat)
	}
	return json.Marshal(struct {
		EventVersion string        `json:"eventVersion"`
		UserIdentity *UserIdentity `json:"userIdentity"`
		EventTime    string        `json:"eventTime"`
		*plain
	}{e.EventVersion, e.UserIdentity, t, (*plain)(e)})
}

// Fill is fill, for tests.
func (e *Event) Fill() { e.fill() }
