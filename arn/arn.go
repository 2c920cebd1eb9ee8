package arn

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string // "aws", "aws-cn", "aws-us-gov", ...
	Service   string // "iam", "s3", "sts", ...
	Region    string // empty for global services
	Account   string // 12-digit account id, empty for some services (s3)
	Resource  string // everything after the fifth colon, colons included
}

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("arn: malformed")

// Parse splits s into its fields. It checks the shape only ("arn:" prefix, six fields,
// non-empty partition, service and resource), not whether the service or region exist.
func Parse(s string) (ARN, error) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, fmt.Errorf("%w: %q does not start with \"arn:\"", ErrMalformed, s)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return ARN{}, fmt.Errorf("%w: %q has %d of the 6 colon-separated fields", ErrMalformed, s, len(parts))
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}
	switch {
	case a.Partition == "":
		return ARN{}, fmt.Errorf("%w: %q has an empty partition", ErrMalformed, s)
	case a.Service == "":
		return ARN{}, fmt.Errorf("%w: %q has an empty service", ErrMalformed, s)
	case a.Resource == "":
		return ARN{}, fmt.Errorf("%w: %q has an empty resource", ErrMalformed, s)
	}
	return a, nil
}

// String returns the ARN in its canonical text form; Parse(a.String()) == a.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Match reports whether the ARN s matches pattern as IAM matches a Resource element and the
// ArnLike operator: "*" alone matches anything; otherwise the first five colon-separated fields
// of pattern and s are matched one against the other, each with "*" (any run of characters) and
// "?" (any one character), and the rest of pattern is matched against the rest of s, where a
// wildcard may span colons. Matching is case-sensitive.
//
// A pattern with fewer than six fields matches its last field against the remainder of s, so
// "arn:aws:s3:*" covers every S3 ARN.
func Match(pattern, s string) bool {
	if pattern == "*" {
		return true
	}
	for field := 0; ; field++ {
		pi := strings.IndexByte(pattern, ':')
		if field == 5 || pi < 0 {
			// Last field of the pattern: it covers everything left of s, colons included.
			return Glob(pattern, s, false)
		}
		si := strings.IndexByte(s, ':')
		if si < 0 {
			return false
		}
		if !Glob(pattern[:pi], s[:si], false) {
			return false
		}
		pattern, s = pattern[pi+1:], s[si+1:]
	}
}

// Glob reports whether s matches pattern, where "*" matches any run of characters (including
// none) and "?" matches exactly one character. With fold, letters match regardless of case
// (Unicode simple folding), as IAM matches actions. Glob does not allocate.
func Glob(pattern, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(pattern) {
			switch c := pattern[pi]; c {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					pi++
					si += n
					continue
				}
			default:
				if si < len(s) {
					if c < utf8.RuneSelf && s[si] < utf8.RuneSelf {
						if c == s[si] || (fold && lowerASCII(c) == lowerASCII(s[si])) {
							pi++
							si++
							continue
						}
					} else {
						pr, pn := utf8.DecodeRuneInString(pattern[pi:])
						sr, sn := utf8.DecodeRuneInString(s[si:])
						// Compare bytes, so that distinct invalid bytes (both RuneError) differ.
						if pattern[pi:pi+pn] == s[si:si+sn] || (fold && pr != utf8.RuneError && equalFoldRune(pr, sr)) {
							pi += pn
							si += sn
							continue
						}
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star swallow one more character, if there is one.
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
}

// HasWildcard reports whether pattern contains "*" or "?".
func HasWildcard(pattern string) bool {
	return strings.ContainsAny(pattern, "*?")
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// Account is the account field of s, the fifth of its colon-separated fields (without checking
// the others, as Parse does): "" when s has fewer than six fields or the field is empty.
func Account(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
