// Package audit records Gatehouse's audit trail: every IAM and STS call, console sign-in and
// decision for a protected service as a CloudTrail-shaped event, queued off the request path
// and written to the store (store.EventLog) in batches, with a retention limit.
//
// The record's fields and their JSON names are CloudTrail's, from "CloudTrail record contents"
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
// and "CloudTrail userIdentity element"
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// EventVersion is the version of CloudTrail's record format the events follow (the version of
// AWS's current example records).
const EventVersion = "1.09"

// The values of Event.EventType Gatehouse writes.
const (
	EventTypeAPICall       = "AwsApiCall"
	EventTypeConsoleSignIn = "AwsConsoleSignIn"
)

// Hidden is what CloudTrail writes in place of a sensitive value (a password, a private key, a
// token), as AWS's published records show it.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// timeFormat is CloudTrail's eventTime and creationDate: UTC, whole seconds.
const timeFormat = "2006-01-02T15:04:05Z"

// Event is one CloudTrail record. Fields CloudTrail always writes have no omitempty.
type Event struct {
	EventVersion string        `json:"eventVersion"`
	UserIdentity *UserIdentity `json:"userIdentity"`
	// EventTime is when the request was completed; Record sets it when zero. It is written in
	// whole seconds, as CloudTrail writes it; the store keeps it exactly, for ordering.
	EventTime       time.Time `json:"-"`
	EventSource     string    `json:"eventSource"` // iam.amazonaws.com, sts.amazonaws.com, signin.amazonaws.com, ...
	EventName       string    `json:"eventName"`   // the operation (CreateUser) or ConsoleLogin
	AWSRegion       string    `json:"awsRegion"`
	SourceIPAddress string    `json:"sourceIPAddress"`
	UserAgent       string    `json:"userAgent"`
	ErrorCode       string    `json:"errorCode,omitempty"`
	ErrorMessage    string    `json:"errorMessage,omitempty"`
	// RequestParameters are the call's parameters (see Parameters), nil for none: CloudTrail
	// writes null.
	RequestParameters map[string]any `json:"requestParameters"`
	// ResponseElements is the response of a call that changes something, nil (null) otherwise.
	ResponseElements    any            `json:"responseElements"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	RequestID           string         `json:"requestID,omitempty"`
	// EventID is the event's unique id; Record sets a random UUID when empty.
	EventID   string     `json:"eventID"`
	ReadOnly  bool       `json:"readOnly"`
	Resources []Resource `json:"resources,omitempty"`
	// EventType is EventTypeAPICall or EventTypeConsoleSignIn; Record sets EventTypeAPICall
	// when empty.
	EventType       string `json:"eventType"`
	ManagementEvent bool   `json:"managementEvent"`
	// RecipientAccountID is the account whose trail receives the event; Record sets it to the
	// caller's account when empty.
	RecipientAccountID string `json:"recipientAccountId"`
	// EventCategory is "Management" (Record sets it when empty).
	EventCategory string `json:"eventCategory"`
	// SessionCredentialFromConsole is "true" for calls made by the console's session.
	SessionCredentialFromConsole string `json:"sessionCredentialFromConsole,omitempty"`

	// Deferred, when not nil, fills the fields that are costly to build (RequestParameters,
	// ResponseElements, UserIdentity, AdditionalEventData...) off the request path: the
	// recorder's writer calls it once, in its own goroutine, before it fills the defaults
	// (EventID, RecipientAccountID from UserIdentity, ...) and encodes the event, and then
	// clears it. It runs after Record returned, so it must capture only values the request no
	// longer changes (the parsed form, the output struct, the principal). It is not encoded.
	Deferred func(*Event) `json:"-"`
}

// UserIdentity is who made the request.
type UserIdentity struct {
	// Type is Root, IAMUser, AssumedRole, FederatedUser, AWSAccount, AWSService, SAMLUser,
	// WebIdentityUser or Unknown.
	Type             string          `json:"type"`
	PrincipalID      string          `json:"principalId,omitempty"`
	ARN              string          `json:"arn,omitempty"`
	AccountID        string          `json:"accountId,omitempty"`
	AccessKeyID      string          `json:"accessKeyId,omitempty"`
	UserName         string          `json:"userName,omitempty"`
	SessionContext   *SessionContext `json:"sessionContext,omitempty"`
	InvokedBy        string          `json:"invokedBy,omitempty"`
	IdentityProvider string          `json:"identityProvider,omitempty"`
}

// SessionContext describes the temporary credentials of a request.
type SessionContext struct {
	SessionIssuer       *SessionIssuer       `json:"sessionIssuer,omitempty"`
	WebIDFederationData *WebIDFederationData `json:"webIdFederationData,omitempty"`
	Attributes          SessionAttributes    `json:"attributes"`
	SourceIdentity      string               `json:"sourceIdentity,omitempty"`
}

// SessionIssuer is the role (or user) whose credentials the session came from.
type SessionIssuer struct {
	Type        string `json:"type"` // Role, IAMUser, Root
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// WebIDFederationData names the identity provider of a web identity session.
type WebIDFederationData struct {
	FederatedProvider string            `json:"federatedProvider,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
}

// SessionAttributes are when the session was created and whether with MFA ("true"/"false").
type SessionAttributes struct {
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is a resource the event names. LookupEvents returns it as ResourceType and
// ResourceName: Name, or ARN when Name is empty.
type Resource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"` // AWS::IAM::User, AWS::IAM::Role, ...
	Name      string `json:"-"`
}

// MarshalJSON writes the record with eventTime in CloudTrail's format, in CloudTrail's field
// order (userIdentity after eventVersion, eventTime after userIdentity): AppendJSON's bytes,
// which are encoding/json's encoding of the fields (TestAppendJSONMatchesEncodingJSON).
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	aux := struct {
		EventTime string `json:"eventTime"`
		*plain
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.EventTime != "" {
		t, err := time.Parse(timeFormat, aux.EventTime)
		if err != nil {
			return fmt.Errorf("audit: eventTime: %w", err)
		}
		e.EventTime = t
	}
	return nil
}

// NewEventID returns a time-ordered (version 7) UUID, the form of CloudTrail's event ids. Time
// order matters to the store: the index of event ids then grows at its right edge, where a random
// (version 4) id would dirty one random page of it per event, and that write was most of the
// trail's cost.
func NewEventID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// fill runs Deferred and sets the fields CloudTrail always writes that the caller left empty.
func (e *Event) fill() {
	if d := e.Deferred; d != nil {
		e.Deferred = nil
		d(e)
	}
	if e.EventVersion == "" {
		e.EventVersion = EventVersion
	}
	if e.EventID == "" {
		e.EventID = NewEventID()
	}
	if e.EventType == "" {
		e.EventType = EventTypeAPICall
	}
	if e.EventCategory == "" {
		e.EventCategory = "Management"
		e.ManagementEvent = true
	}
	if e.RecipientAccountID == "" && e.UserIdentity != nil {
		e.RecipientAccountID = e.UserIdentity.AccountID
	}
}

// Username is the user name LookupEvents shows and filters on: the IAM user's name, the role
// session's name, the federated user's name, "root" for the root user; "" when anonymous.
func (e *Event) Username() string {
	u := e.UserIdentity
	if u == nil {
		return ""
	}
	switch u.Type {
	case "Root":
		if u.UserName != "" {
			return u.UserName
		}
		return "root"
	case "AssumedRole", "FederatedUser":
		if i := strings.LastIndexByte(u.ARN, '/'); i >= 0 {
			return u.ARN[i+1:]
		}
	}
	return u.UserName
}

// StoreEvent is the event as the store keeps it: the JSON record with the fields LookupEvents
// selects on. The event's fields must be filled (Record does it).
func (e *Event) StoreEvent() (store.Event, error) {
	se, _, err := e.appendStoreEvent(make([]byte, 0, 1024))
	return se, err
}

// appendStoreEvent is StoreEvent with the record appended to buf; its Data is the part of the
// returned buffer it appended.
func (e *Event) appendStoreEvent(buf []byte) (store.Event, []byte, error) {
	start := len(buf)
	buf, err := e.AppendJSON(buf)
	if err != nil {
		return store.Event{}, buf[:start], fmt.Errorf("audit: encode event %s: %w", e.EventName, err)
	}
	se := store.Event{
		ID: e.EventID, Account: e.RecipientAccountID, Time: e.EventTime, Name: e.EventName, Source: e.EventSource,
		Username: e.Username(), ReadOnly: e.ReadOnly, Data: buf[start:len(buf):len(buf)],
	}
	if e.UserIdentity != nil {
		se.AccessKeyID = e.UserIdentity.AccessKeyID
	}
	for _, r := range e.Resources {
		name := r.Name
		if name == "" {
			name = r.ARN
		}
		se.Resources = append(se.Resources, store.EventResource{Type: r.Type, Name: name})
	}
	return se, buf, nil
}

// Identity is the userIdentity of an authenticated caller; nil for an anonymous one.
func Identity(p *principal.Principal) *UserIdentity {
	if p == nil {
		return nil
	}
	u := &UserIdentity{PrincipalID: p.UserID, ARN: p.ARN, AccountID: p.Account, AccessKeyID: p.AccessKeyID}
	switch p.Type {
	case principal.Root:
		u.Type = "Root"
	case principal.User:
		u.Type, u.UserName = "IAMUser", p.UserName
	case principal.AssumedRole:
		u.Type = "AssumedRole"
	case principal.FederatedUser:
		u.Type = "FederatedUser"
	default:
		u.Type = "Unknown"
	}
	s := p.Session
	if s == nil {
		return u
	}
	mfa := "false"
	if s.MFA {
		mfa = "true"
	}
	sc := &SessionContext{Attributes: SessionAttributes{MFAAuthenticated: mfa}, SourceIdentity: s.SourceIdentity}
	if !s.IssuedAt.IsZero() {
		sc.Attributes.CreationDate = s.IssuedAt.UTC().Format(timeFormat)
	}
	switch {
	case s.RoleARN != "":
		sc.SessionIssuer = &SessionIssuer{Type: "Role", PrincipalID: s.RoleID, ARN: s.RoleARN, AccountID: p.Account, UserName: s.RoleName}
	case p.Type == principal.FederatedUser && s.UserID != "":
		sc.SessionIssuer = &SessionIssuer{Type: "IAMUser", PrincipalID: s.UserID, AccountID: p.Account}
	}
	if s.Federated != "" && s.RoleARN != "" && !strings.Contains(s.Federated, ":saml-provider/") {
		sc.WebIDFederationData = &WebIDFederationData{FederatedProvider: s.Federated}
	}
	u.SessionContext = sc
	return u
}
