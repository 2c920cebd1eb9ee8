// Package cloudtrail answers CloudTrail's API over AWS's JSON 1.1 protocol, over the audit trail
// the store keeps (store.EventLog): LookupEvents, with its attribute filters, time range and
// pagination, as `aws cloudtrail lookup-events --endpoint-url ...` calls it. The other
// operations of CloudTrail's model are declined by name.
//
// Behaviour follows the CloudTrail API Reference's LookupEvents
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html), its
// Event and Resource types (API_Event.html, API_Resource.html) and CloudTrail's API model
// (botocore's cloudtrail/2013-11-01/service-2.json).
package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// TargetPrefix is the X-Amz-Target prefix of CloudTrail's operations in its API model (what
// botocore, and so the aws CLI, send); the operation's name follows it after a dot.
// aws-sdk-go-v2 sends the short form, ShortTargetPrefix.
const (
	TargetPrefix      = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
	ShortTargetPrefix = "CloudTrail_20131101"
)

// ContentType is the Content-Type of the JSON 1.1 protocol's requests and responses.
const ContentType = "application/x-amz-json-1.1"

// Operation returns the operation an X-Amz-Target header names, in either form
// ("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents" or
// "CloudTrail_20131101.LookupEvents"), and false when the header is not CloudTrail's.
func Operation(target string) (string, bool) {
	for _, prefix := range []string{TargetPrefix + ".", ShortTargetPrefix + "."} {
		if op, ok := strings.CutPrefix(target, prefix); ok && op != "" && !strings.Contains(op, ".") {
			return op, true
		}
	}
	return "", false
}

// Service answers CloudTrail's API calls.
type Service struct {
	log    store.EventLog
	logger *slog.Logger
	now    func() time.Time
}

// New returns the service over log; logger gets the failures the caller only sees as
// InternalFailure (nil discards them); now is the clock (time.Now when nil). LookupEvents needs
// no clock today: it answers over whatever the retention keeps, not CloudTrail's 90 days.
func New(log store.EventLog, logger *slog.Logger, now func() time.Time) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Service{log: log, logger: logger, now: now}
}

// apiError is an error answer: its __type, message and HTTP status.
type apiError struct {
	Type    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func clientError(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// Handle answers one JSON-protocol call of CloudTrail; operation is the operation's name (the
// part of X-Amz-Target after TargetPrefix and a dot, e.g. "LookupEvents"), account the
// caller's account. It returns the HTTP status and the JSON body to send, with Content-Type
// ContentType. Errors are {"__type":"...","message":"..."} with AWS's exception names.
func (s *Service) Handle(ctx context.Context, account, operation string, body []byte) (status int, response []byte) {
	var out any
	var err error
	switch {
	case operation == "LookupEvents":
		out, err = s.lookupEvents(ctx, account, body)
	case slices.Contains(operations, operation):
		err = clientError("UnsupportedOperationException", "CloudTrail's %s is not implemented by Gatehouse, which keeps the trail of its own IAM, STS, sign-in and authorization events and answers LookupEvents over it.", operation)
	default:
		err = clientError("UnknownOperationException", "The operation %q is not an operation of CloudTrail.", operation)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{Type: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
			if errors.Is(err, store.ErrUnavailable) {
				ae = &apiError{Type: "ServiceUnavailable", Message: "The service is unavailable. Please try again later.", Status: http.StatusServiceUnavailable}
			}
			s.logger.ErrorContext(ctx, "cloudtrail: "+operation+" failed", slog.String("error", err.Error()))
		}
		b, _ := json.Marshal(struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{ae.Type, ae.Message})
		return ae.Status, b
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.logger.ErrorContext(ctx, "cloudtrail: encode "+operation+" response", slog.String("error", err.Error()))
		return http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"The response could not be encoded."}`)
	}
	return http.StatusOK, b
}

// The limits of LookupEvents (CloudTrail's model: MaxResults 1..50, LookupAttributeValue
// 1..2000 characters).
const (
	defaultMaxResults = 50
	maxMaxResults     = 50
	maxValueLength    = 2000
)

// lookupRequest is a LookupEvents request as parsed.
type lookupRequest struct {
	Attribute, Value string
	Start, End       time.Time // zero: open
	Insight          bool      // EventCategory "insight"
	MaxResults       int
	NextToken        string
}

// rawLookupRequest is the JSON of LookupEventsRequest.
type rawLookupRequest struct {
	LookupAttributes []struct {
		AttributeKey   *string `json:"AttributeKey"`
		AttributeValue *string `json:"AttributeValue"`
	} `json:"LookupAttributes"`
	StartTime     *json.Number `json:"StartTime"`
	EndTime       *json.Number `json:"EndTime"`
	EventCategory *string      `json:"EventCategory"`
	MaxResults    *json.Number `json:"MaxResults"`
	NextToken     *string      `json:"NextToken"`
}

// parseLookupRequest reads and validates a LookupEvents request body.
func parseLookupRequest(body []byte) (*lookupRequest, *apiError) {
	var raw rawLookupRequest
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, clientError("SerializationException", "The request body is not a valid LookupEventsRequest: %s", jsonProblem(err))
		}
		if dec.More() {
			return nil, clientError("SerializationException", "The request body has data after the LookupEventsRequest object.")
		}
	}
	req := &lookupRequest{MaxResults: defaultMaxResults}
	switch n := len(raw.LookupAttributes); {
	case n > 1:
		return nil, clientError("InvalidLookupAttributesException", "LookupAttributes can contain only one item; %d were specified.", n)
	case n == 1:
		a := raw.LookupAttributes[0]
		if a.AttributeKey == nil || a.AttributeValue == nil {
			return nil, clientError("InvalidLookupAttributesException", "A lookup attribute needs both AttributeKey and AttributeValue.")
		}
		if !slices.Contains(store.EventAttributes, *a.AttributeKey) {
			return nil, clientError("InvalidLookupAttributesException", "%q is not a lookup attribute; valid attribute keys are %s.", *a.AttributeKey, strings.Join(store.EventAttributes, ", "))
		}
		if l := utf8.RuneCountInString(*a.AttributeValue); l < 1 || l > maxValueLength {
			return nil, clientError("InvalidLookupAttributesException", "The value of lookup attribute %s must be 1 to %d characters long.", *a.AttributeKey, maxValueLength)
		}
		if *a.AttributeKey == store.EventAttrReadOnly && *a.AttributeValue != "true" && *a.AttributeValue != "false" {
			return nil, clientError("InvalidLookupAttributesException", "The value of lookup attribute ReadOnly must be true or false.")
		}
		req.Attribute, req.Value = *a.AttributeKey, *a.AttributeValue
	}
	var err *apiError
	if req.Start, err = parseTime(raw.StartTime, "StartTime"); err != nil {
		return nil, err
	}
	if req.End, err = parseTime(raw.EndTime, "EndTime"); err != nil {
		return nil, err
	}
	if !req.Start.IsZero() && !req.End.IsZero() && req.Start.After(req.End) {
		return nil, clientError("InvalidTimeRangeException", "The start time (%s) occurs after the end time (%s).", req.Start.Format(time.RFC3339), req.End.Format(time.RFC3339))
	}
	if raw.EventCategory != nil {
		if *raw.EventCategory != "insight" {
			return nil, clientError("InvalidEventCategoryException", "%q is not an event category; the only one is insight.", *raw.EventCategory)
		}
		req.Insight = true
		switch req.Attribute {
		case "", store.EventAttrEventID, store.EventAttrEventName, store.EventAttrEventSource:
		default:
			return nil, clientError("InvalidLookupAttributesException", "Insights events can be looked up by EventId, EventName or EventSource only, not by %s.", req.Attribute)
		}
	}
	if raw.MaxResults != nil {
		n, perr := raw.MaxResults.Int64()
		if perr != nil || n < 1 || n > maxMaxResults {
			return nil, clientError("InvalidMaxResultsException", "MaxResults must be a whole number from 1 to %d; %s is not.", maxMaxResults, raw.MaxResults.String())
		}
		req.MaxResults = int(n)
	}
	if raw.NextToken != nil {
		req.NextToken = *raw.NextToken
	}
	return req, nil
}

// jsonProblem says what is wrong with a body, without echoing it.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s cannot be a JSON %s.", te.Field, te.Value)
	}
	return "it is not valid JSON."
}

// The range of times LookupEvents accepts: from the Unix epoch to the year 9999 (what
// eventTime can show).
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// parseTime reads a JSON protocol timestamp: epoch seconds, possibly with a fraction (what the
// SDKs and the CLI send).
func parseTime(n *json.Number, name string) (time.Time, *apiError) {
	if n == nil {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < float64(minTime.Unix()) || f > float64(maxTime.Unix()) {
		return time.Time{}, clientError("InvalidTimeRangeException", "%s %s is outside the range of possible values (epoch seconds from 0 to %d).", name, n.String(), maxTime.Unix())
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

// The response shapes of LookupEvents.
type (
	lookupResponse struct {
		Events    []event `json:"Events"`
		NextToken string  `json:"NextToken,omitempty"`
	}
	event struct {
		EventID         string     `json:"EventId"`
		EventName       string     `json:"EventName"`
		ReadOnly        string     `json:"ReadOnly"`
		AccessKeyID     string     `json:"AccessKeyId,omitempty"`
		EventTime       int64      `json:"EventTime"` // epoch seconds, as eventTime shows it
		EventSource     string     `json:"EventSource"`
		Username        string     `json:"Username,omitempty"`
		Resources       []resource `json:"Resources"`
		CloudTrailEvent string     `json:"CloudTrailEvent"`
	}
	resource struct {
		ResourceType string `json:"ResourceType"`
		ResourceName string `json:"ResourceName"`
	}
)

// lookupEvents answers LookupEvents: the account's events newest first, a page of MaxResults
// at a time.
func (s *Service) lookupEvents(ctx context.Context, account string, body []byte) (any, error) {
	req, aerr := parseLookupRequest(body)
	if aerr != nil {
		return nil, aerr
	}
	q := store.EventQuery{Account: account, Attribute: req.Attribute, Value: req.Value, Limit: req.MaxResults + 1}
	// Records show eventTime in whole seconds: the range takes whole seconds too, so that an
	// event is found by the time its record shows (EndTime covers its whole second).
	if !req.Start.IsZero() {
		q.Start = req.Start.Truncate(time.Second)
	}
	if !req.End.IsZero() {
		q.End = req.End.Truncate(time.Second).Add(time.Second - time.Nanosecond)
	}
	fp := fingerprint(account, req)
	if req.NextToken != "" {
		cur, ok := decodeToken(req.NextToken, fp)
		if !ok {
			return nil, clientError("InvalidNextTokenException", "The NextToken is not valid, or was returned for a request with different parameters.")
		}
		q.Before = &cur
	}
	resp := lookupResponse{Events: []event{}}
	if req.Insight {
		return resp, nil // Gatehouse has no Insights events
	}
	evs, err := s.log.Events(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(evs) > req.MaxResults {
		evs = evs[:req.MaxResults]
		last := evs[len(evs)-1]
		resp.NextToken = encodeToken(store.EventCursor{Time: last.Time, ID: last.ID}, fp)
	}
	for _, ev := range evs {
		e := event{
			EventID: ev.ID, EventName: ev.Name, ReadOnly: fmt.Sprint(ev.ReadOnly), AccessKeyID: ev.AccessKeyID,
			EventTime: ev.Time.Unix(), EventSource: ev.Source, Username: ev.Username, Resources: []resource{},
			CloudTrailEvent: string(ev.Data),
		}
		for _, r := range ev.Resources {
			e.Resources = append(e.Resources, resource{ResourceType: r.Type, ResourceName: r.Name})
		}
		resp.Events = append(resp.Events, e)
	}
	return resp, nil
}

// operations are the operations of CloudTrail's API model (2013-11-01).
var operations = []string{
	"AddTags", "CancelQuery", "CreateChannel", "CreateDashboard", "CreateEventDataStore", "CreateTrail",
	"DeleteChannel", "DeleteDashboard", "DeleteEventDataStore", "DeleteResourcePolicy", "DeleteTrail",
	"DeregisterOrganizationDelegatedAdmin", "DescribeQuery", "DescribeTrails", "DisableFederation", "EnableFederation",
	"GenerateQuery", "GetChannel", "GetDashboard", "GetEventConfiguration", "GetEventDataStore", "GetEventSelectors",
	"GetImport", "GetInsightSelectors", "GetQueryResults", "GetResourcePolicy", "GetTrail", "GetTrailStatus",
	"ListChannels", "ListDashboards", "ListEventDataStores", "ListImportFailures", "ListImports", "ListInsightsData",
	"ListInsightsMetricData", "ListPublicKeys", "ListQueries", "ListTags", "ListTrails", "LookupEvents",
	"PutEventConfiguration", "PutEventSelectors", "PutInsightSelectors", "PutResourcePolicy",
	"RegisterOrganizationDelegatedAdmin", "RemoveTags", "RestoreEventDataStore", "SearchSampleQueries",
	"StartDashboardRefresh", "StartEventDataStoreIngestion", "StartImport", "StartLogging", "StartQuery",
	"StopEventDataStoreIngestion", "StopImport", "StopLogging", "UpdateChannel", "UpdateDashboard",
	"UpdateEventDataStore", "UpdateTrail",
}
