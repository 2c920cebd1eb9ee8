package audit

import (
	"encoding/json"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
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

// TreeParameters is Parameters by the form's tree alone, the reference of its flat fast path.
func TreeParameters(op *awsquery.OperationModel, form url.Values) map[string]any {
	if op == nil || op.Input == nil || len(form) == 0 {
		return nil
	}
	out, _ := structure(op.Input, buildForm(form)).(map[string]any)
	if len(out) == 0 {
		return nil
	}
	return out
}
