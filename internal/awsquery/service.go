package awsquery

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
)

// Handler runs one operation: it decodes form into the operation's input and returns its output.
type Handler func(ctx context.Context, op *OperationModel, form url.Values) (any, error)

// Handle adapts a typed operation function (aws-sdk-go-v2 input and output shapes) to a Handler.
func Handle[In, Out any](fn func(context.Context, *In) (*Out, error)) Handler {
	return func(ctx context.Context, op *OperationModel, form url.Values) (any, error) {
		in := new(In)
		if err := Decode(op, form, in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Service is one AWS API (IAM or STS) served on the shared endpoint.
type Service struct {
	Name        string // "IAM" or "STS", for messages
	SigningName string // the SigV4 service name: "iam" or "sts"
	Model       *Model
	handlers    map[string]Handler
	declined    map[string]Declined
}

// Declined is how Gatehouse answers an operation of the model that it does not offer: an error
// code (AWS's own answer for the state a Gatehouse account is always in, where AWS has one, or
// NotImplemented), its HTTP status, and why the operation is not offered.
type Declined struct {
	Code   string
	Status int
	Reason string
}

// NewService loads the embedded model of signingName ("iam" or "sts").
func NewService(name, signingName string) (*Service, error) {
	m, err := LoadModel(signingName)
	if err != nil {
		return nil, err
	}
	return &Service{Name: name, SigningName: signingName, Model: m, handlers: map[string]Handler{}, declined: map[string]Declined{}}, nil
}

// Register serves operation op with h. It fails for names that are not operations of the model.
func (s *Service) Register(op string, h Handler) error {
	if _, ok := s.Model.Operations[op]; !ok {
		return fmt.Errorf("awsquery: %s has no operation %s", s.Name, op)
	}
	if _, dup := s.handlers[op]; dup {
		return fmt.Errorf("awsquery: %s operation %s registered twice", s.Name, op)
	}
	s.handlers[op] = h
	return nil
}

// Decline serves op with the answer d: its input is validated against the model (into a fresh
// value of newInput, an aws-sdk-go-v2 input struct) and authorized like any operation's, and
// the answer is d's error naming the operation and d's reason.
func (s *Service) Decline(op string, newInput func() any, d Declined) error {
	if d.Code == "" || d.Status == 0 || d.Reason == "" {
		return fmt.Errorf("awsquery: %s operation %s declined without a code, status and reason", s.Name, op)
	}
	answer := &Error{Code: d.Code, Message: fmt.Sprintf("Gatehouse does not offer the %s operation %s: %s.", s.Name, op, d.Reason), Status: d.Status, Sender: d.Status < 500}
	h := func(_ context.Context, op *OperationModel, form url.Values) (any, error) {
		if err := Decode(op, form, newInput()); err != nil {
			return nil, err
		}
		return nil, answer
	}
	if err := s.Register(op, h); err != nil {
		return err
	}
	s.declined[op] = d
	return nil
}

// Lookup finds the operation named by action: InvalidAction when the model has no such
// operation, NotImplemented when Gatehouse does not serve it yet.
func (s *Service) Lookup(action string) (*OperationModel, Handler, error) {
	op, ok := s.Model.Operations[action]
	if !ok {
		return nil, nil, Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", action, s.Model.APIVersion)
	}
	h, ok := s.handlers[action]
	if !ok {
		return op, nil, NotImplemented(s.Name, action)
	}
	return op, h, nil
}

// Implemented lists the operations that have handlers of their own (not declined ones).
func (s *Service) Implemented() []string {
	out := make([]string, 0, len(s.handlers))
	for name := range s.handlers {
		if _, ok := s.declined[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

// Declines returns the declined operations and their answers.
func (s *Service) Declines() map[string]Declined { return maps.Clone(s.declined) }
