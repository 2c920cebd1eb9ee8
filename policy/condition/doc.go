// Package condition implements the Condition element of AWS policies: the request context the
// conditions read, the condition operators with their ...IfExists forms and the ForAllValues: and
// ForAnyValue: set qualifiers, and the policy-variable patterns (${aws:username}, ${*}, defaults)
// that Resource elements and string and ARN condition values may contain.
//
// The semantics follow the IAM User Guide: a key missing from the request makes a positive
// operator false and a negated one (StringNotEquals, NotIpAddress, ...) true; ...IfExists makes a
// missing key true; several values for one key are ORed (NORed for negated operators); several
// keys and several operators are ANDed; ForAllValues is true for an empty or missing key and
// ForAnyValue false.
package condition
