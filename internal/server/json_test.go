package server

import (
	"net/http"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

// TestDecodeJSON: a body decodes strictly, and a body that does not decode is a
// ValidationException with the caller's words and the decoder's error.
func TestDecodeJSON(t *testing.T) {
	type in struct {
		ResourceArn string
		Policy      string `json:",omitempty"`
	}
	for _, tc := range []struct {
		name, body string
		want       in
		msg        string // "": decodes
	}{
		{"known fields", `{"ResourceArn":"arn:aws:orders:us-east-1:123456789012:order/1","Policy":"{}"}`,
			in{ResourceArn: "arn:aws:orders:us-east-1:123456789012:order/1", Policy: "{}"}, ""},
		{"empty object", `{}`, in{}, ""},
		{"unknown field", `{"ResourceArn":"a","Extra":1}`, in{},
			`The request body is not valid: json: unknown field "Extra".`},
		{"wrong type", `{"ResourceArn":5}`, in{},
			"The request body is not valid: json: cannot unmarshal number into Go struct field in.ResourceArn of type string."},
		{"not JSON", `ResourceArn=a`, in{},
			"The request body is not valid: invalid character 'R' looking for beginning of value."},
		{"empty", ``, in{}, "The request body is not valid: EOF."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got in
			err := DecodeJSON([]byte(tc.body), &got, "The request body is not valid")
			if tc.msg == "" {
				if err != nil || got != tc.want {
					t.Errorf("= %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			e := awsquery.AsError(err)
			if e == nil || e.Code != "ValidationException" || e.Status != http.StatusBadRequest || !e.Sender || e.Message != tc.msg {
				t.Errorf("error = %#v; want ValidationException %q", err, tc.msg)
			}
		})
	}
}
