package server

import "testing"

// TestARNAccount: the account field of an ARN, when it is an account's 12 characters.
func TestARNAccount(t *testing.T) {
	for _, tc := range []struct{ arn, want string }{
		{"arn:aws:iam::123456789012:role/r", "123456789012"},
		{"arn:aws:sts::123456789012:assumed-role/r/s", "123456789012"},
		{"arn:aws:orders:us-east-1:123456789012:order/a:b", "123456789012"},
		{"arn:aws:s3:::bucket", ""},                        // no account
		{"arn:aws:iam::12345:role/r", ""},                  // not 12 long
		{"arn:aws:iam::123456789012", ""},                  // five fields
		{"", ""},                                           // no RoleArn
		{"x:aws:iam::123456789012:role/r", "123456789012"}, // the shape only, as before
	} {
		if got := arnAccount(tc.arn); got != tc.want {
			t.Errorf("arnAccount(%q) = %q, want %q", tc.arn, got, tc.want)
		}
	}
}
