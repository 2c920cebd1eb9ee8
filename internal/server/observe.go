package server

import "time"

// Observer is told about every answered API request, for the metrics. The values it gets are
// from bounded sets only: the service's signing name, an operation name of the service's model
// ("unknown" for any other Action, which the caller controls), and "success" or the AWS error
// code. It must not block: it runs on the request's goroutine after the answer is written.
type Observer interface {
	Request(service, action, outcome string, latency time.Duration)
	// AuthenticationFailed is a request refused before any principal was known to be valid;
	// reason is the AWS error code (InvalidClientTokenId, SignatureDoesNotMatch, ...).
	AuthenticationFailed(reason string)
	// Denied is an authenticated request answered AccessDenied.
	Denied(service, action string)
}

// WithObserver makes s report each request to obs; it returns s. Call it before serving.
func (s *Server) WithObserver(obs Observer) *Server {
	s.observer = obs
	return s
}

// authFailureCodes are the codes of a request that could not be authenticated (sigv4's codes,
// the session token's ExpiredToken).
var authFailureCodes = map[string]bool{
	"IncompleteSignature":        true,
	"InvalidClientTokenId":       true,
	"MissingAuthenticationToken": true,
	"SignatureDoesNotMatch":      true,
	"ExpiredToken":               true,
}

// observe reports o to the observer, if any.
func (s *Server) observe(o *outcome, latency time.Duration) {
	if s.observer == nil {
		return
	}
	service, action := o.svc.SigningName, "unknown"
	if _, ok := o.svc.Model.Operations[o.action]; ok {
		action = o.action
	}
	outcome := "success"
	if o.err != nil {
		outcome = o.err.Code
	}
	s.observer.Request(service, action, outcome, latency)
	switch {
	case o.err == nil:
	case authFailureCodes[outcome]:
		s.observer.AuthenticationFailed(outcome)
	case outcome == "AccessDenied":
		s.observer.Denied(service, action)
	}
}
