package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
)

// JSONService is an API of AWS's JSON 1.1 protocol on the shared endpoint (CloudTrail's
// LookupEvents, Gatehouse's decision API): a POST whose X-Amz-Target header names the
// operation as TargetPrefix.Operation.
type JSONService struct {
	TargetPrefix string // "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
	SigningName  string // the SigV4 service name and the prefix of its actions: "cloudtrail"
	// Operations are the operations it serves; nil hands every operation to Handle, which
	// then answers those it does not serve itself.
	Operations []string
	// Handle answers operation for the caller in ctx, already authenticated and allowed
	// SigningName:operation by policy: the JSON response body, or an *awsquery.Error.
	Handle func(ctx context.Context, operation string, body []byte) ([]byte, error)
	// Resource, if set, names the resource an operation is authorized on (its ARN, from the
	// request body); without it, or when it returns "", the resource is "*".
	Resource func(operation string, body []byte) (string, error)
}

// JSONAuthorizer decides an access for the caller in ctx; *enforce.Enforcer implements it.
type JSONAuthorizer interface {
	Authorize(ctx context.Context, acc enforce.Access) error
}

// WithJSON makes s serve the JSON-protocol services svcs, each operation authorized by authz
// as the action SigningName:Operation on "*"; it returns s. Call it before serving.
func (s *Server) WithJSON(authz JSONAuthorizer, svcs ...*JSONService) *Server {
	s.jsonAuthz = authz
	s.json = append(s.json, svcs...)
	return s
}

// serveJSON answers a JSON-protocol request.
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, target string) {
	start := time.Now()
	requestID := newRequestID()
	bufs := s.bufs.Get().(*requestBuffers)
	defer s.putBuffers(bufs)
	bufs.body.Reset()
	o := outcome{svc: s.services[0], status: http.StatusOK}
	body, err := s.callJSON(r, bufs, target, &o)
	if err != nil {
		o.fail(s.answerError(r, requestID, err))
		body = JSONError(o.err)
		w.Header().Set("X-Amzn-Errortype", JSONCode(o.err.Code))
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(o.status)
	_, _ = w.Write(body)
	s.logRequest(r, requestID, &o, time.Since(start))
	s.recordJSON(r, requestID, &o, bufs.body.Bytes()) // trail.go
}

func (s *Server) callJSON(r *http.Request, bufs *requestBuffers, target string, o *outcome) ([]byte, error) {
	prefix, op := target, ""
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		prefix, op = target[:i], target[i+1:]
	}
	o.action = op
	// Several services may share a prefix (the decision API and resource policies); the one
	// that serves the operation answers.
	var svc *JSONService
	for _, js := range s.json {
		if js.TargetPrefix == prefix && (svc == nil || js.serves(op)) {
			svc = js
		}
	}
	if r.Method != http.MethodPost {
		return nil, awsquery.Errorf(http.StatusMethodNotAllowed, "InvalidHttpRequest", "The HTTP method %s is not supported; the JSON protocol takes POST.", r.Method)
	}
	if err := readBody(r.Body, &bufs.body); err != nil {
		return nil, err
	}
	body := bufs.body.Bytes()
	signed, err := s.verifier.Parse(r, body)
	if err != nil {
		return nil, sigv4Error(err)
	}
	o.accessKeyID, o.region = signed.AccessKeyID, signed.Region
	signing := signed.Service
	if svc != nil {
		signing = svc.SigningName
	}
	ctx, p, err := s.authenticateSigned(r.Context(), signed, signing)
	if err != nil {
		return nil, err
	}
	o.caller, o.principal = p.ARN, p
	if svc == nil || !svc.serves(op) {
		return nil, awsquery.Errorf(http.StatusBadRequest, "UnknownOperationException", "The operation %s is not one Gatehouse serves.", target)
	}
	o.jsonService = svc
	ctx = enforce.WithRequestFacts(ctx, requestFacts(r, signed.Region))
	acc := enforce.Access{Action: svc.SigningName + ":" + op}
	if svc.Resource != nil {
		if acc.Resource, err = svc.Resource(op, body); err != nil {
			return nil, err
		}
	}
	if err := s.jsonAuthz.Authorize(ctx, acc); err != nil {
		return nil, err
	}
	return svc.Handle(ctx, op, body)
}

// DecodeJSON decodes body, a JSON-protocol request, into v strictly: a field v does not know
// is an error, as AWS's services refuse it. The error is a ValidationException whose message
// is invalid, a colon, the decoder's error and a period ("The request body is not valid: ...").
func DecodeJSON(body []byte, v any, invalid string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return awsquery.Errorf(http.StatusBadRequest, "ValidationException", "%s: %v.", invalid, err)
	}
	return nil
}

func (js *JSONService) serves(op string) bool {
	return js.Operations == nil || slices.Contains(js.Operations, op)
}

// JSONError is e as AWS's JSON protocols write an error.
func JSONError(e *awsquery.Error) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{JSONCode(e.Code), e.Message})
	return b
}

// JSONCode is the JSON protocols' name of a Query error code: AccessDeniedException and
// ValidationException for AccessDenied and ValidationError.
func JSONCode(code string) string {
	switch code {
	case "AccessDenied":
		return "AccessDeniedException"
	case "ValidationError":
		return "ValidationException"
	}
	return code
}
