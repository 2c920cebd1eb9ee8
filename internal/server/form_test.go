package server

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseQuery checks parseQuery against url.ParseQuery, which it replaces on the request
// path: the same values and the same error for any input.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "Action=GetUser&Version=2010-05-08&UserName=bob", "a=1&a=2&b", "a=%zz&b=2", "a;b=1&c=2", "&&=&x=%41%42",
		"Tags.member.1.Key=k&Tags.member.1.Value=v+w", "PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D"} {
		f.Add(s)
	}
	f.Add(strings.Repeat("a=1&", maxQueryParams))
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := url.ParseQuery(s)
		got := url.Values{}
		gotErr := parseQuery(got, s)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("parseQuery(%q) error %v, url.ParseQuery %v", s, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseQuery(%q) = %v, url.ParseQuery %v", s, got, want)
		}
	})
}
