package cloudtrail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/cloudtrail"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

const (
	acct  = "123456789012"
	other = "210987654321"
)

// base is the time of the first test event.
var base = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// trail opens a store with 120 events of acct (and a few of another account) written by the
// audit recorder: CreateUser by alice (read-write, with a user resource) and GetUser by bob
// (read-only) in turn, two a second.
func trail(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r := audit.NewRecorder(s, nil, audit.Options{})
	for i := range 120 {
		ev := &audit.Event{
			UserIdentity: &audit.UserIdentity{Type: "IAMUser", PrincipalID: "AIDAALICE", ARN: "arn:aws:iam::123456789012:user/alice",
				AccountID: acct, AccessKeyID: "AKIAALICE", UserName: "alice"},
			EventTime: base.Add(time.Duration(i/2) * time.Second), EventSource: "iam.amazonaws.com", EventName: "CreateUser",
			AWSRegion: "us-east-1", SourceIPAddress: "192.0.2.1", UserAgent: "aws-cli/2",
			RequestParameters: map[string]any{"userName": fmt.Sprint("u", i)}, EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Resources: []audit.Resource{{ARN: fmt.Sprintf("arn:aws:iam::123456789012:user/u%d", i), AccountID: acct, Type: "AWS::IAM::User", Name: fmt.Sprint("u", i)}},
		}
		if i%2 == 1 {
			ev.EventName, ev.ReadOnly, ev.Resources = "GetUser", true, nil
			ev.UserIdentity = &audit.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::123456789012:user/bob", AccountID: acct, AccessKeyID: "AKIABOB", UserName: "bob"}
		}
		r.Record(ev)
	}
	for i := range 3 {
		r.Record(&audit.Event{UserIdentity: &audit.UserIdentity{Type: "Root", AccountID: other, ARN: "arn:aws:iam::210987654321:root"},
			EventTime: base.Add(time.Duration(i) * time.Second), EventSource: "iam.amazonaws.com", EventName: "CreateUser"})
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// server serves the service as the lead's router will: X-Amz-Target names the operation; the
// caller's account is fixed.
func server(t testing.TB, svc *cloudtrail.Service, account string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := cloudtrail.Operation(r.Header.Get("X-Amz-Target"))
		if !ok {
			http.Error(w, "not cloudtrail", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		status, resp := svc.Handle(r.Context(), account, op, body)
		w.Header().Set("Content-Type", cloudtrail.ContentType)
		w.Header().Set("X-Amzn-RequestId", "test-request")
		w.WriteHeader(status)
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// client is aws-sdk-go-v2's CloudTrail client against srv. It retries (LookupEvents is
// idempotent): under the race detector on a loaded machine the SDK's client now and then reads
// a response from a connection its transport has closed ("use of closed network connection"),
// which the SDK counts as retryable.
func client(srv *httptest.Server) *ct.Client {
	return ct.New(ct.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 3, HTTPClient: srv.Client(),
	})
}

func attr(key cttypes.LookupAttributeKey, value string) []cttypes.LookupAttribute {
	return []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}
}

// all pages through LookupEvents with the SDK's paginator and returns every event.
func all(t *testing.T, c *ct.Client, in *ct.LookupEventsInput) []cttypes.Event {
	t.Helper()
	var out []cttypes.Event
	p := ct.NewLookupEventsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		out = append(out, page.Events...)
	}
	return out
}

func TestLookupEventsSDK(t *testing.T) {
	c := client(server(t, cloudtrail.New(trail(t), nil, nil), acct))
	evs := all(t, c, &ct.LookupEventsInput{MaxResults: aws.Int32(7)})
	if len(evs) != 120 {
		t.Fatalf("%d events, want 120", len(evs))
	}
	seen := map[string]bool{}
	for i, e := range evs {
		if seen[*e.EventId] {
			t.Fatalf("event %s twice", *e.EventId)
		}
		seen[*e.EventId] = true
		if i > 0 && e.EventTime.After(*evs[i-1].EventTime) {
			t.Errorf("event %d is newer than the one before", i)
		}
	}
	newest := evs[0]
	if *newest.EventId != "00000000-0000-4000-8000-000000000119" || *newest.EventName != "GetUser" || *newest.ReadOnly != "true" ||
		*newest.AccessKeyId != "AKIABOB" || *newest.Username != "bob" || *newest.EventSource != "iam.amazonaws.com" ||
		!newest.EventTime.Equal(base.Add(59*time.Second)) || len(newest.Resources) != 0 {
		t.Errorf("newest = %s", dump(newest))
	}
	second := evs[1]
	if *second.ReadOnly != "false" || len(second.Resources) != 1 || *second.Resources[0].ResourceType != "AWS::IAM::User" || *second.Resources[0].ResourceName != "u118" {
		t.Errorf("second = %s", dump(second))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(*second.CloudTrailEvent), &rec); err != nil {
		t.Fatalf("CloudTrailEvent: %v", err)
	}
	if rec["eventID"] != *second.EventId || rec["eventName"] != "CreateUser" || rec["eventTime"] != "2026-05-06T07:09:08Z" ||
		rec["requestParameters"].(map[string]any)["userName"] != "u118" {
		t.Errorf("CloudTrailEvent = %s", *second.CloudTrailEvent)
	}
	// The default page is 50 events.
	out, err := c.LookupEvents(t.Context(), &ct.LookupEventsInput{})
	if err != nil || len(out.Events) != 50 || out.NextToken == nil {
		t.Fatalf("default page: %d events, token %v, %v", len(out.Events), out.NextToken, err)
	}
}

func dump(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestLookupEventsFilters(t *testing.T) {
	c := client(server(t, cloudtrail.New(trail(t), nil, nil), acct))
	at := func(sec int) *time.Time { v := base.Add(time.Duration(sec) * time.Second); return &v }
	for _, tc := range []struct {
		name  string
		in    ct.LookupEventsInput
		count int
		check func(e cttypes.Event) bool
	}{
		{"event name", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "GetUser")}, 60,
			func(e cttypes.Event) bool { return *e.EventName == "GetUser" }},
		{"event id", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventId, "00000000-0000-4000-8000-000000000007")}, 1,
			func(e cttypes.Event) bool { return *e.EventId == "00000000-0000-4000-8000-000000000007" }},
		{"read only", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyReadOnly, "false")}, 60,
			func(e cttypes.Event) bool { return *e.ReadOnly == "false" }},
		{"username", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "alice")}, 60,
			func(e cttypes.Event) bool { return *e.Username == "alice" }},
		{"resource type", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceType, "AWS::IAM::User")}, 60,
			func(e cttypes.Event) bool { return *e.Resources[0].ResourceType == "AWS::IAM::User" }},
		{"resource name", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceName, "u42")}, 1,
			func(e cttypes.Event) bool { return *e.Resources[0].ResourceName == "u42" }},
		{"event source", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventSource, "iam.amazonaws.com")}, 120, nil},
		{"event source elsewhere", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com")}, 0, nil},
		{"access key", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyAccessKeyId, "AKIABOB")}, 60,
			func(e cttypes.Event) bool { return *e.AccessKeyId == "AKIABOB" }},
		{"time range, whole seconds inclusive", ct.LookupEventsInput{StartTime: at(10), EndTime: at(19)}, 20,
			func(e cttypes.Event) bool { return !e.EventTime.Before(*at(10)) && !e.EventTime.After(*at(19)) }},
		{"start only", ct.LookupEventsInput{StartTime: at(55)}, 10, nil},
		{"end only", ct.LookupEventsInput{EndTime: at(0)}, 2, nil},
		{"range and attribute", ct.LookupEventsInput{StartTime: at(10), EndTime: at(19), LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "bob"), MaxResults: aws.Int32(3)}, 10,
			func(e cttypes.Event) bool { return *e.Username == "bob" }},
		{"insight events: none", ct.LookupEventsInput{EventCategory: cttypes.EventCategoryInsight}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := all(t, c, &tc.in)
			if len(evs) != tc.count {
				t.Fatalf("%d events, want %d", len(evs), tc.count)
			}
			for _, e := range evs {
				if tc.check != nil && !tc.check(e) {
					t.Errorf("event does not match: %s", dump(e))
				}
			}
		})
	}
}

func TestLookupEventsOtherAccount(t *testing.T) {
	s := trail(t)
	evs := all(t, client(server(t, cloudtrail.New(s, nil, nil), other)), &ct.LookupEventsInput{})
	if len(evs) != 3 || *evs[0].Username != "root" {
		t.Fatalf("other account: %s", dump(evs))
	}
	if evs := all(t, client(server(t, cloudtrail.New(s, nil, nil), "999999999999")), &ct.LookupEventsInput{}); len(evs) != 0 {
		t.Errorf("an account without events sees %d", len(evs))
	}
}

func TestLookupEventsErrorsSDK(t *testing.T) {
	s := trail(t)
	c := client(server(t, cloudtrail.New(s, nil, nil), acct))
	first, err := c.LookupEvents(t.Context(), &ct.LookupEventsInput{MaxResults: aws.Int32(5)})
	if err != nil {
		t.Fatal(err)
	}
	otherToken, err := client(server(t, cloudtrail.New(s, nil, nil), other)).LookupEvents(t.Context(), &ct.LookupEventsInput{MaxResults: aws.Int32(1)})
	if err != nil || otherToken.NextToken == nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   ct.LookupEventsInput
		code string
	}{
		{"two attributes", ct.LookupEventsInput{LookupAttributes: append(attr(cttypes.LookupAttributeKeyUsername, "a"), attr(cttypes.LookupAttributeKeyEventName, "b")...)}, "InvalidLookupAttributesException"},
		{"unknown attribute", ct.LookupEventsInput{LookupAttributes: attr("Region", "x")}, "InvalidLookupAttributesException"},
		{"empty value", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "")}, "InvalidLookupAttributesException"},
		{"read only not boolean", ct.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyReadOnly, "yes")}, "InvalidLookupAttributesException"},
		{"start after end", ct.LookupEventsInput{StartTime: aws.Time(base.Add(time.Hour)), EndTime: aws.Time(base)}, "InvalidTimeRangeException"},
		{"before the epoch", ct.LookupEventsInput{StartTime: aws.Time(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))}, "InvalidTimeRangeException"},
		{"max results 51", ct.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"max results 0", ct.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"garbage token", ct.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
		{"token of other parameters", ct.LookupEventsInput{NextToken: first.NextToken, LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "bob")}, "InvalidNextTokenException"},
		{"token of another account", ct.LookupEventsInput{NextToken: otherToken.NextToken}, "InvalidNextTokenException"},
		{"insight by user name", ct.LookupEventsInput{EventCategory: cttypes.EventCategoryInsight, LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "bob")}, "InvalidLookupAttributesException"},
		{"unknown event category", ct.LookupEventsInput{EventCategory: "data"}, "InvalidEventCategoryException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.LookupEvents(t.Context(), &tc.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an API error", err)
			}
			if ae.ErrorCode() != tc.code || ae.ErrorMessage() == "" {
				t.Errorf("error %q %q, want %s with a message", ae.ErrorCode(), ae.ErrorMessage(), tc.code)
			}
		})
	}
	// A token with MaxResults changed between pages still works.
	next, err := c.LookupEvents(t.Context(), &ct.LookupEventsInput{NextToken: first.NextToken, MaxResults: aws.Int32(2)})
	if err != nil || len(next.Events) != 2 || *next.Events[0].EventId != "00000000-0000-4000-8000-000000000114" {
		t.Errorf("next page with another MaxResults: %s, %v", dump(next.Events), err)
	}
}

func TestHandleWire(t *testing.T) {
	svc := cloudtrail.New(trail(t), nil, nil)
	for _, tc := range []struct {
		name, op, body string
		status         int
		want           string // a substring of the response
	}{
		{"empty body", "LookupEvents", "", 200, `"Events":[{"EventId":"00000000-0000-4000-8000-000000000119","EventName":"GetUser","ReadOnly":"true","AccessKeyId":"AKIABOB","EventTime":1778051348,"EventSource":"iam.amazonaws.com","Username":"bob","Resources":[],"CloudTrailEvent":"{\"eventVersion\":\"1.09\"`},
		{"fractional epoch seconds", "LookupEvents", `{"StartTime":1778051347.5,"EndTime":1.7780513485E9}`, 200, `"EventTime":1778051348`},
		{"last page has no token", "LookupEvents", `{"LookupAttributes":[{"AttributeKey":"EventId","AttributeValue":"00000000-0000-4000-8000-000000000001"}]}`, 200, `"Events":[{"EventId":"00000000-0000-4000-8000-000000000001"`},
		{"not json", "LookupEvents", `{"MaxResults":`, 400, `{"__type":"SerializationException","message":"The request body is not a valid LookupEventsRequest: it is not valid JSON."}`},
		{"wrong type", "LookupEvents", `{"MaxResults":"ten"}`, 400, `"__type":"SerializationException"`},
		{"max results fraction", "LookupEvents", `{"MaxResults":2.5}`, 400, `"__type":"InvalidMaxResultsException"`},
		{"not implemented", "CreateTrail", `{}`, 400, `{"__type":"UnsupportedOperationException","message":"CloudTrail's CreateTrail is not implemented by Gatehouse`},
		{"unknown operation", "MakeCoffee", `{}`, 400, `{"__type":"UnknownOperationException","message":"The operation \"MakeCoffee\" is not an operation of CloudTrail."}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := svc.Handle(t.Context(), acct, tc.op, []byte(tc.body))
			if status != tc.status || !strings.Contains(string(resp), tc.want) {
				t.Errorf("Handle = %d %s\nwant %d with %s", status, resp, tc.status, tc.want)
			}
			if tc.name == "last page has no token" && strings.Contains(string(resp), "NextToken") {
				t.Errorf("a last page has a NextToken: %s", resp)
			}
			if !json.Valid(resp) {
				t.Errorf("response is not JSON: %s", resp)
			}
		})
	}
}

func TestOperation(t *testing.T) {
	for target, want := range map[string]string{
		"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents": "LookupEvents",
		"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.":             "",
		"CloudTrail_20131101.LookupEvents":                                    "LookupEvents",
		"CloudTrail_20131101.":                                                "",
		"CloudTrail_20131101.A.B":                                             "",
		"AWSSecurityTokenServiceV20110615.GetCallerIdentity":                  "",
	} {
		got, ok := cloudtrail.Operation(target)
		if got != want || ok != (want != "") {
			t.Errorf("Operation(%q) = %q, %v", target, got, ok)
		}
	}
}

// FuzzLookupEventsRequest checks that no request body makes Handle panic or answer anything
// but JSON with a status of 200 or 400, and that a 200 answer decodes.
func FuzzLookupEventsRequest(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{"MaxResults":5}`, `{"StartTime":1.7e9,"EndTime":1.8e9}`, `{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"bob"}]}`,
		`{"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"true"}],"NextToken":"AQ"}`, `{"EventCategory":"insight"}`,
		`{"StartTime":-1}`, `{"StartTime":1e400}`, `{"MaxResults":1e10}`, `[]`, `null`, `{"LookupAttributes":null}`, `{"NextToken":""}`,
	} {
		f.Add([]byte(seed))
	}
	s, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	err = s.AppendEvents(context.Background(), []store.Event{{ID: "e1", Account: acct, Time: base, Name: "GetUser", Source: "iam.amazonaws.com", Username: "bob", ReadOnly: true, Data: []byte(`{}`)}})
	if err != nil {
		f.Fatal(err)
	}
	svc := cloudtrail.New(s, nil, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		status, resp := svc.Handle(context.Background(), acct, "LookupEvents", body)
		if status != 200 && status != 400 {
			t.Fatalf("status %d: %s", status, resp)
		}
		if !json.Valid(resp) {
			t.Fatalf("response is not JSON: %q", resp)
		}
		if status == 200 {
			var out struct{ Events []map[string]any }
			if err := json.Unmarshal(resp, &out); err != nil || out.Events == nil {
				t.Fatalf("response %s: %v", resp, err)
			}
		}
	})
}

// BenchmarkLookupEvents is one page of 50 events by attribute from a trail of 120.
func BenchmarkLookupEvents(b *testing.B) {
	svc := cloudtrail.New(trail(b), nil, nil)
	body := []byte(`{"LookupAttributes":[{"AttributeKey":"EventSource","AttributeValue":"iam.amazonaws.com"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if status, resp := svc.Handle(context.Background(), acct, "LookupEvents", body); status != 200 {
			b.Fatal(string(resp))
		}
	}
}

// TestAWSCLI runs `aws cloudtrail lookup-events` (where the aws CLI is installed) against the
// service: its long X-Amz-Target, its timestamps and its pagination. Signatures are not
// checked here (the server's authentication is in front of Handle).
func TestAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws CLI is not installed")
	}
	srv := server(t, cloudtrail.New(trail(t), nil, nil), acct)
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), awsPath, append([]string{"cloudtrail", "lookup-events", "--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("--lookup-attributes", "AttributeKey=Username,AttributeValue=bob",
		"--start-time", "2026-05-06T07:08:19Z", "--end-time", "2026-05-06T07:08:28Z", "--page-size", "3")
	if err != nil {
		t.Fatalf("aws: %v\n%s", err, out)
	}
	var resp struct {
		Events []struct {
			EventID   string          `json:"EventId"`
			Username  string          `json:"Username"`
			EventTime json.RawMessage `json:"EventTime"` // a number (CLI v1) or ISO 8601 (v2)
			ReadOnly  string          `json:"ReadOnly"`
			Resources []any           `json:"Resources"`
			Record    string          `json:"CloudTrailEvent"`
			NextToken *string         `json:"NextToken"`
		}
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if len(resp.Events) != 10 {
		t.Fatalf("%d events, want 10 (pages of 3 followed by the CLI):\n%s", len(resp.Events), out)
	}
	for _, e := range resp.Events {
		if e.Username != "bob" || e.ReadOnly != "true" || !inRange(e.EventTime) || !json.Valid([]byte(e.Record)) {
			t.Errorf("event %+v", e)
		}
	}
	out, err = run("--max-results", "51")
	if err == nil || !strings.Contains(out, "InvalidMaxResultsException") {
		t.Errorf("MaxResults 51: %v\n%s", err, out)
	}
}

// inRange reports whether a CLI's EventTime (epoch seconds from CLI v1, ISO 8601 from v2) is
// within 07:08:19 to 07:08:28 of the test day.
func inRange(raw json.RawMessage) bool {
	var sec float64
	if err := json.Unmarshal(raw, &sec); err == nil {
		return sec >= float64(base.Unix()+10) && sec <= float64(base.Unix()+19)
	}
	var iso string
	_ = json.Unmarshal(raw, &iso)
	t, err := time.Parse(time.RFC3339, iso)
	return err == nil && !t.Before(base.Add(10*time.Second)) && !t.After(base.Add(19*time.Second))
}

// TestStoreFailureIsLogged: a store that fails answers the caller CloudTrail's InternalFailure,
// which says nothing of the cause, so the cause goes to the server's log.
func TestStoreFailureIsLogged(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	svc := cloudtrail.New(s, slog.New(slog.NewTextHandler(&logged, nil)), nil)
	status, resp := svc.Handle(t.Context(), acct, "LookupEvents", []byte(`{}`))
	if status != http.StatusInternalServerError || !bytes.Contains(resp, []byte(`"InternalFailure"`)) {
		t.Fatalf("closed store: %d %s, want 500 InternalFailure", status, resp)
	}
	if !strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), "LookupEvents") {
		t.Errorf("log %q: want an ERROR line naming LookupEvents", logged.String())
	}
}
