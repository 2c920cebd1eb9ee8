package iam

import (
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const markerAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// respelledMarkers returns the markers a lenient base64 decoder reads as m: other last
// characters (their low bits are unused), line breaks, padding.
func respelledMarkers(m string) []string {
	var out []string
	last := len(m) - 1
	for i := range len(markerAlphabet) {
		if c := markerAlphabet[i]; c != m[last] {
			if b, err := base64.RawURLEncoding.DecodeString(m[:last] + string(c)); err == nil && string(b) == mustDecode(m) {
				out = append(out, m[:last]+string(c))
			}
		}
	}
	return append(out, m+"\n", m[:1]+"\r\n"+m[1:], m+"=")
}

func mustDecode(m string) string {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestMarkerOneSpelling checks that a Marker decodes only as issued: the spellings a lenient
// decoder also takes are "not a marker this service returned".
func TestMarkerOneSpelling(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"alice", "aidaexample/k", "v10/x", "z", "abc"} {
		m := *encodeMarker(key)
		t.Run("key="+key, func(t *testing.T) {
			if got, ok := decodeMarker(m); !ok || got != key {
				t.Fatalf("decodeMarker(%q) = %q, %v; want %q", m, got, ok, key)
			}
			others := respelledMarkers(m)
			if len(key)%3 != 0 && len(others) <= 3 {
				t.Fatalf("no other last character of %q decodes leniently; the case proves nothing", m)
			}
			for _, o := range others {
				if got, ok := decodeMarker(o); ok {
					t.Errorf("decodeMarker(%q) = %q, want it refused", o, got)
				}
				if _, err := pageOf(&o, nil); err == nil {
					t.Errorf("pageOf(%q) accepted a respelled marker", o)
				}
			}
		})
	}
}

// TestSimulationMarkerOneSpelling checks the simulators' markers (a position) likewise, and
// that another decimal spelling of the position is not a marker either.
func TestSimulationMarkerOneSpelling(t *testing.T) {
	t.Parallel()
	in := func(marker *string) *iam.SimulateCustomPolicyInput {
		return &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`},
			ActionNames:     []string{"s3:GetObject", "s3:PutObject", "s3:GetObjectAcl"},
			MaxItems:        aws.Int32(1),
			Marker:          marker,
		}
	}
	first, err := (&Service{}).SimulateCustomPolicy(simCtx(), in(nil))
	if err != nil || first.Marker == nil {
		t.Fatalf("first page: %v, marker %v", err, first)
	}
	if _, err := (&Service{}).SimulateCustomPolicy(simCtx(), in(first.Marker)); err != nil {
		t.Fatalf("the issued marker %q: %v", *first.Marker, err)
	}
	cases := map[string]string{}
	for _, o := range respelledMarkers(*first.Marker) {
		cases["respelled "+o] = o
	}
	for _, pos := range []string{"+1", "01", " 1", "1 ", "1.0", "-0"} {
		cases["position "+pos] = *encodeMarker(pos)
	}
	for name, m := range cases {
		t.Run("marker="+name, func(t *testing.T) {
			if _, err := (&Service{}).SimulateCustomPolicy(simCtx(), in(aws.String(m))); simErrCode(err) != "ValidationError" {
				t.Errorf("marker %q: %v, want ValidationError", m, err)
			}
		})
	}
}
