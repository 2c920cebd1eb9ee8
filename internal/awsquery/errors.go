package awsquery

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS error as the Query protocol sends it: a code, a message, the HTTP status and
// whether the caller (Sender) or the service (Receiver) is at fault.
type Error struct {
	Code    string
	Message string
	Status  int
	Sender  bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a sender-fault error with code and HTTP status.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Sender: true}
}

// Common errors of the IAM and STS APIs.
func ValidationError(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// NoSuchEntity is IAM's 404.
func NoSuchEntity(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "NoSuchEntity", format, args...)
}

// EntityAlreadyExists is IAM's 409 for a taken name.
func EntityAlreadyExists(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

// DeleteConflict is IAM's 409 for deleting something still in use.
func DeleteConflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "DeleteConflict", format, args...)
}

// LimitExceeded is IAM's 409 for quotas.
func LimitExceeded(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "LimitExceeded", format, args...)
}

// InvalidInput is IAM's 400 for semantically bad parameters.
func InvalidInput(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

// MalformedPolicyDocument is IAM's 400 for documents that are not valid policies.
func MalformedPolicyDocument(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "MalformedPolicyDocument", format, args...)
}

// AccessDenied is the 403 for requests the caller may not make.
func AccessDenied(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, "AccessDenied", format, args...)
}

// Internal is a receiver-fault 500; the message never carries internal details.
func Internal() *Error {
	return &Error{Code: "ServiceFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
}

// ServiceUnavailable is the retryable 503 for a request the deployment cannot serve now (its
// database is unreachable); AWS SDKs retry it. Code and message are AWS's common error
// (Common Errors, AWS API references).
func ServiceUnavailable() *Error {
	return &Error{Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server.", Status: http.StatusServiceUnavailable}
}

// NotImplemented names an operation of the AWS model that Gatehouse does not serve yet.
func NotImplemented(service, op string) *Error {
	return &Error{Code: "NotImplemented", Message: fmt.Sprintf("Gatehouse does not implement the %s operation %s yet.", service, op), Status: http.StatusNotImplemented}
}

// AsError returns err as an *Error, or nil when it is not one.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
