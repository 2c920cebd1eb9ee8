package audit_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

const acct = "123456789012"

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func model(t testing.TB, svc string) *awsquery.Model {
	t.Helper()
	m, err := awsquery.LoadModel(svc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParameters(t *testing.T) {
	iam, sts := model(t, "iam"), model(t, "sts")
	for _, tc := range []struct {
		name string
		op   *awsquery.OperationModel
		form url.Values
		want string
	}{
		{"create user", iam.Operations["CreateUser"],
			url.Values{"Action": {"CreateUser"}, "Version": {"2010-05-08"}, "UserName": {"bob"}, "Path": {"/"}},
			`{"path":"/","userName":"bob"}`},
		{"tags list", iam.Operations["CreateRole"], url.Values{
			"RoleName": {"r"}, "AssumeRolePolicyDocument": {`{"Version":"2012-10-17"}`}, "MaxSessionDuration": {"7200"},
			"Tags.member.2.Key": {"b"}, "Tags.member.2.Value": {"2"}, "Tags.member.1.Key": {"a"}, "Tags.member.1.Value": {"1"},
			"Tags.member.10.Key": {"j"}, "Tags.member.10.Value": {"10"}},
			`{"assumeRolePolicyDocument":"{\"Version\":\"2012-10-17\"}","maxSessionDuration":7200,"roleName":"r","tags":[{"key":"a","value":"1"},{"key":"b","value":"2"},{"key":"j","value":"10"}]}`},
		{"string list", iam.Operations["CreateOpenIDConnectProvider"], url.Values{
			"Url": {"https://example.com"}, "ClientIDList.member.1": {"c1"}, "ThumbprintList.member.1": {"abc"}},
			`{"clientIDList":["c1"],"thumbprintList":["abc"],"url":"https://example.com"}`},
		{"password hidden", iam.Operations["CreateLoginProfile"], url.Values{
			"UserName": {"bob"}, "Password": {"hunter2!"}, "PasswordResetRequired": {"true"}},
			`{"password":"HIDDEN_DUE_TO_SECURITY_REASONS","passwordResetRequired":true,"userName":"bob"}`},
		{"change password", iam.Operations["ChangePassword"], url.Values{"OldPassword": {"a"}, "NewPassword": {"b"}},
			`{"newPassword":"HIDDEN_DUE_TO_SECURITY_REASONS","oldPassword":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
		{"private key", iam.Operations["UploadServerCertificate"], url.Values{
			"ServerCertificateName": {"c"}, "CertificateBody": {"-----BEGIN CERTIFICATE-----"}, "PrivateKey": {"-----BEGIN PRIVATE KEY-----"}},
			`{"certificateBody":"-----BEGIN CERTIFICATE-----","privateKey":"HIDDEN_DUE_TO_SECURITY_REASONS","serverCertificateName":"c"}`},
		{"mfa codes", iam.Operations["EnableMFADevice"], url.Values{
			"UserName": {"bob"}, "SerialNumber": {"arn:aws:iam::123456789012:mfa/bob"}, "AuthenticationCode1": {"123456"}, "AuthenticationCode2": {"654321"}},
			`{"authenticationCode1":"HIDDEN_DUE_TO_SECURITY_REASONS","authenticationCode2":"HIDDEN_DUE_TO_SECURITY_REASONS","serialNumber":"arn:aws:iam::123456789012:mfa/bob","userName":"bob"}`},
		{"saml assertion", sts.Operations["AssumeRoleWithSAML"], url.Values{
			"RoleArn": {"arn:aws:iam::123456789012:role/r"}, "PrincipalArn": {"arn:aws:iam::123456789012:saml-provider/p"}, "SAMLAssertion": {"PHNhbWw+"}},
			`{"principalArn":"arn:aws:iam::123456789012:saml-provider/p","roleArn":"arn:aws:iam::123456789012:role/r","sAMLAssertion":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
		{"web identity token", sts.Operations["AssumeRoleWithWebIdentity"], url.Values{
			"RoleArn": {"arn:aws:iam::123456789012:role/r"}, "RoleSessionName": {"s"}, "WebIdentityToken": {"eyJhbGciOi"}, "DurationSeconds": {"900"}},
			`{"durationSeconds":900,"roleArn":"arn:aws:iam::123456789012:role/r","roleSessionName":"s","webIdentityToken":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
		{"assume role with mfa and policy arns", sts.Operations["AssumeRole"], url.Values{
			"RoleArn": {"arn:aws:iam::123456789012:role/r"}, "RoleSessionName": {"s"}, "SerialNumber": {"arn:aws:iam::123456789012:mfa/bob"}, "TokenCode": {"123456"},
			"PolicyArns.member.1.arn": {"arn:aws:iam::aws:policy/ReadOnlyAccess"}, "TransitiveTagKeys.member.1": {"team"}},
			`{"policyArns":[{"arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}],"roleArn":"arn:aws:iam::123456789012:role/r","roleSessionName":"s","serialNumber":"arn:aws:iam::123456789012:mfa/bob","tokenCode":"HIDDEN_DUE_TO_SECURITY_REASONS","transitiveTagKeys":["team"]}`},
		{"no parameters", sts.Operations["GetCallerIdentity"], url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, `null`},
		{"unknown parameters left out", iam.Operations["GetUser"], url.Values{"Bogus": {"x"}, "X-Amz-Signature": {"s"}}, `null`},
		{"bad number kept as given", iam.Operations["ListUsers"], url.Values{"MaxItems": {"lots"}}, `{"maxItems":"lots"}`},
		{"empty list", iam.Operations["CreateOpenIDConnectProvider"], url.Values{"Url": {"https://x"}, "ClientIDList": {""}}, `{"clientIDList":[],"url":"https://x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(audit.Parameters(tc.op, tc.form))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Parameters =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestFlatParametersMatchTree: the fast path of flat forms answers as the tree walk does, for
// every operation's members given alone and all together, with text, number and boolean values
// and the protocol's own keys beside them.
func TestFlatParametersMatchTree(t *testing.T) {
	for _, svc := range []string{"iam", "sts"} {
		m := model(t, svc)
		for name, op := range m.Operations {
			if op.Input == nil {
				continue
			}
			for _, v := range []string{"x", "", "7", "true", "-1"} {
				all := url.Values{"Action": {name}, "Version": {"2010-05-08"}, "X-Amz-Date": {"20260101T000000Z"}}
				forms := []url.Values{all}
				for _, member := range op.Input.Order {
					all.Set(member, v)
					forms = append(forms, url.Values{member: {v}})
				}
				for _, form := range forms {
					got, _ := json.Marshal(audit.Parameters(op, form))
					want, _ := json.Marshal(audit.TreeParameters(op, form))
					if string(got) != string(want) {
						t.Errorf("%s %s %v: %s, tree walk %s", svc, name, form, got, want)
					}
				}
			}
		}
	}
}

// TestParametersNeverLeak fills every member of every operation's input with a marker value
// and checks that no member of a sensitive shape keeps it.
func TestParametersNeverLeak(t *testing.T) {
	for _, svc := range []string{"iam", "sts"} {
		m := model(t, svc)
		for name, op := range m.Operations {
			if op.Input == nil {
				continue
			}
			form := url.Values{}
			for _, member := range op.Input.Order {
				form.Set(member, "SECRET-"+member+"-END")
			}
			b, _ := json.Marshal(audit.Parameters(op, form))
			for _, member := range op.Input.Order {
				s := op.Input.Members[member]
				if isSensitive(s.Name) && strings.Contains(string(b), "SECRET-"+member+"-END") {
					t.Errorf("%s %s: %s leaks in %s", svc, name, member, b)
				}
			}
		}
	}
}

func isSensitive(shape string) bool {
	switch shape {
	case "passwordType", "privateKeyType", "SAMLAssertionType", "clientTokenType", "tradeInTokenType", "webIdentityTokenType", "accessKeySecretType":
		return true
	}
	return false
}

// TestSensitiveShapes compares the sensitive shapes of botocore's IAM and STS models, where
// botocore is installed, with those the audit trail hides.
func TestSensitiveShapes(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		t.Skip("botocore is not installed")
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "data")
	hidden := map[string]bool{}
	for _, f := range []string{"iam/2010-05-08/service-2.json.gz", "sts/2011-06-15/service-2.json.gz"} {
		fh, err := os.Open(filepath.Join(root, f))
		if err != nil {
			t.Skip(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Shapes map[string]struct {
				Sensitive bool `json:"sensitive"`
			} `json:"shapes"`
		}
		if err := json.NewDecoder(zr).Decode(&m); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		for name, s := range m.Shapes {
			if s.Sensitive {
				hidden[name] = true
			}
		}
	}
	got := audit.SensitiveShapes()
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range hidden {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("sensitive shapes = %q, botocore's are %q", got, want)
	}
}

func TestReadOnly(t *testing.T) {
	for action, want := range map[string]bool{
		"iam:GetUser": true, "iam:ListUsers": true, "iam:CreateUser": false, "iam:AttachUserPolicy": false,
		"iam:TagUser": false, "sts:GetCallerIdentity": true, "sts:AssumeRole": false, "IAM:getuser": true,
		"iam:NoSuchAction": false, "nosuchservice:Get": false, "garbage": false,
	} {
		if got := audit.ReadOnly(action); got != want {
			t.Errorf("ReadOnly(%q) = %v, want %v", action, got, want)
		}
	}
}

func TestIdentity(t *testing.T) {
	issued := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		p    *principal.Principal
		want string
	}{
		{"anonymous", nil, `null`},
		{"root", &principal.Principal{Type: principal.Root, Account: acct, ARN: "arn:aws:iam::123456789012:root", UserID: acct, AccessKeyID: "AKIAROOT"},
			`{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012","accessKeyId":"AKIAROOT"}`},
		{"user", &principal.Principal{Type: principal.User, Account: acct, ARN: "arn:aws:iam::123456789012:user/Alice", UserID: "AIDAEXAMPLE", UserName: "Alice", AccessKeyID: "AKIAEXAMPLE"},
			`{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"Alice"}`},
		{"role session", &principal.Principal{Type: principal.AssumedRole, Account: acct, ARN: "arn:aws:sts::123456789012:assumed-role/R/s", UserID: "AROAEXAMPLE:s", AccessKeyID: "ASIAEXAMPLE",
			Session: &principal.Session{IssuedAt: issued, RoleID: "AROAEXAMPLE", RoleARN: "arn:aws:iam::123456789012:role/R", RoleName: "R", SessionName: "s", MFA: true}},
			`{"type":"AssumedRole","principalId":"AROAEXAMPLE:s","arn":"arn:aws:sts::123456789012:assumed-role/R/s","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/R","accountId":"123456789012","userName":"R"},"attributes":{"creationDate":"2026-01-02T03:04:05Z","mfaAuthenticated":"true"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := json.Marshal(audit.Identity(tc.p))
			if string(got) != tc.want {
				t.Errorf("Identity =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// sample is an event of a CreateUser call.
func sample(i int) *audit.Event {
	return &audit.Event{
		UserIdentity: &audit.UserIdentity{Type: "IAMUser", PrincipalID: "AIDAEXAMPLE", ARN: "arn:aws:iam::123456789012:user/alice",
			AccountID: acct, AccessKeyID: "AKIAEXAMPLE", UserName: "alice"},
		EventSource: "iam.amazonaws.com", EventName: "CreateUser", AWSRegion: "us-east-1", SourceIPAddress: "192.0.2.1",
		UserAgent: "aws-cli/2", RequestParameters: map[string]any{"userName": fmt.Sprint("user", i)}, RequestID: "req",
		Resources: []audit.Resource{{ARN: fmt.Sprintf("arn:aws:iam::123456789012:user/user%d", i), AccountID: acct, Type: "AWS::IAM::User", Name: fmt.Sprint("user", i)}},
	}
}

func TestEventJSON(t *testing.T) {
	ev := sample(1)
	ev.EventTime = time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	ev.ErrorCode, ev.ErrorMessage = "EntityAlreadyExists", "User with name user1 already exists."
	r := audit.NewRecorder(openStore(t), nil, audit.Options{})
	r.Record(ev)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
		"userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements", "requestID", "eventID", "readOnly",
		"resources", "eventType", "managementEvent", "recipientAccountId", "eventCategory"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record lacks %s: %s", k, b)
		}
	}
	if !strings.HasPrefix(string(b), `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser",`) {
		t.Errorf("record does not start in CloudTrail's order: %s", b)
	}
	if m["eventTime"] != "2026-03-04T05:06:07Z" || m["recipientAccountId"] != acct || m["eventType"] != "AwsApiCall" || m["managementEvent"] != true {
		t.Errorf("record: %s", b)
	}
	res := m["resources"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(res, map[string]any{"ARN": "arn:aws:iam::123456789012:user/user1", "accountId": acct, "type": "AWS::IAM::User"}) {
		t.Errorf("resource = %v", res)
	}
	if byValue, err := json.Marshal(*ev); err != nil || string(byValue) != string(b) {
		t.Errorf("the event encodes differently by value: %s, %v", byValue, err)
	}
	var back audit.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.EventTime.Equal(ev.EventTime.Truncate(time.Second)) || back.EventID != ev.EventID || back.UserIdentity.UserName != "alice" {
		t.Errorf("round trip: %+v", back)
	}
}

func TestNewEventID(t *testing.T) {
	// Version 7 (RFC 9562): the ids sort in the order they were made, which keeps the store's
	// index of event ids growing at its end.
	prev := ""
	for range 1000 {
		id := audit.NewEventID()
		if len(id) != 36 || id[14] != '7' || !strings.Contains("89ab", id[19:20]) || strings.Count(id, "-") != 4 || id <= prev {
			t.Fatalf("bad or unordered id %q after %q", id, prev)
		}
		prev = id
	}
}

func TestRecorderWritesAndExports(t *testing.T) {
	s := openStore(t)
	r := audit.NewRecorder(s, nil, audit.Options{FlushInterval: 10 * time.Millisecond, BatchSize: 7})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	base := time.Now().UTC()
	var wg sync.WaitGroup
	for w := range 5 {
		wg.Go(func() {
			for i := range 20 {
				ev := sample(w*100 + i)
				ev.EventTime = base.Add(time.Duration(w*100+i) * time.Millisecond)
				r.Record(ev)
			}
		})
	}
	wg.Wait()
	cancel() // Run writes what is left before it returns
	<-done
	st := r.Stats()
	if st.Recorded != 100 || st.Written != 100 || st.Dropped != 0 || st.Failed != 0 || st.Queued != 0 {
		t.Fatalf("stats %+v", st)
	}
	evs, err := s.Events(t.Context(), store.EventQuery{Account: acct, Attribute: store.EventAttrResourceName, Value: "user401"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("by resource name: %d, %v", len(evs), err)
	}
	if ev := evs[0]; ev.Name != "CreateUser" || ev.Source != "iam.amazonaws.com" || ev.Username != "alice" || ev.AccessKeyID != "AKIAEXAMPLE" ||
		ev.ReadOnly || !slices.Equal(ev.Resources, []store.EventResource{{Type: "AWS::IAM::User", Name: "user401"}}) {
		t.Errorf("stored %+v", ev)
	}
	var buf bytes.Buffer
	if err := audit.WriteJSONLines(t.Context(), s, acct, &buf); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var lines int
	var last time.Time
	for sc.Scan() {
		var ev audit.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if lines > 0 && ev.EventTime.After(last) {
			t.Errorf("line %d is newer than the one before", lines)
		}
		last = ev.EventTime
		lines++
	}
	if lines != 100 {
		t.Errorf("exported %d lines, want 100", lines)
	}
}

func TestExportPages(t *testing.T) {
	s := openStore(t)
	r := audit.NewRecorder(s, nil, audit.Options{})
	base := time.Now()
	for i := range 2500 {
		ev := sample(i)
		ev.EventTime = base.Add(time.Duration(i/10) * time.Second) // ten events a second: pages end inside a second
		r.Record(ev)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := audit.WriteJSONLines(t.Context(), s, acct, &buf); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var ev audit.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		ids[ev.EventID] = true
	}
	if len(ids) != 2500 {
		t.Errorf("exported %d distinct events, want 2500", len(ids))
	}
	buf.Reset()
	if err := audit.WriteJSONLines(t.Context(), s, "999999999999", &buf); err != nil || buf.Len() != 0 {
		t.Errorf("another account's export: %q, %v", buf.String(), err)
	}
}

func TestRecorderDropsWhenFull(t *testing.T) {
	r := audit.NewRecorder(openStore(t), nil, audit.Options{QueueSize: 10})
	for i := range 25 {
		r.Record(sample(i))
	}
	if st := r.Stats(); st.Recorded != 10 || st.Dropped != 15 || st.Queued != 10 {
		t.Fatalf("stats %+v", st)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Written != 10 || st.Queued != 0 {
		t.Fatalf("after flush %+v", st)
	}
}

// failingLog is an EventLog whose appends fail.
type failingLog struct{ store.EventLog }

func (failingLog) AppendEvents(context.Context, []store.Event) error {
	return errors.New("disk on fire")
}

func TestRecorderCountsFailures(t *testing.T) {
	r := audit.NewRecorder(failingLog{openStore(t)}, nil, audit.Options{})
	r.Record(sample(1))
	r.Record(sample(2))
	if err := r.Flush(t.Context()); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Flush = %v", err)
	}
	if st := r.Stats(); st.Failed != 2 || st.Written != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRetention(t *testing.T) {
	s := openStore(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r := audit.NewRecorder(s, nil, audit.Options{Retention: 24 * time.Hour, Now: func() time.Time { return now }, FlushInterval: time.Hour})
	for i, age := range []time.Duration{time.Hour, 23 * time.Hour, 25 * time.Hour, 90 * 24 * time.Hour} {
		ev := sample(i)
		ev.EventTime = now.Add(-age)
		r.Record(ev)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }() // prunes when it starts
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().Pruned < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	evs, err := s.Events(t.Context(), store.EventQuery{Account: acct})
	if err != nil || len(evs) != 2 || r.Stats().Pruned != 2 {
		t.Fatalf("after retention: %d events, %v, stats %+v", len(evs), err, r.Stats())
	}
}

// discardLog is an EventLog that stores nothing, for measuring the recorder alone.
type discardLog struct{ store.EventLog }

func (discardLog) AppendEvents(context.Context, []store.Event) error { return nil }

// BenchmarkRecord is the cost of Record on the request path (building the event, which the
// server does anyway, is not measured). "queued": every event is queued (the queue is emptied
// off the clock); "parallel": callers on every processor while Run writes (encodes) batches,
// with the share of events dropped because the writer could not keep up.
func BenchmarkRecord(b *testing.B) {
	evs := make([]*audit.Event, 1<<16)
	for i := range evs {
		evs[i] = sample(i)
		evs[i].EventTime = time.Now()
	}
	b.Run("queued", func(b *testing.B) {
		r := audit.NewRecorder(discardLog{}, nil, audit.Options{QueueSize: len(evs), BatchSize: len(evs)})
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if i > 0 && i%len(evs) == 0 {
				b.StopTimer()
				if err := r.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			r.Record(evs[i%len(evs)])
		}
		if st := r.Stats(); st.Dropped > 0 {
			b.Fatalf("dropped %d", st.Dropped)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		r := audit.NewRecorder(discardLog{}, nil, audit.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				r.Record(evs[i%len(evs)])
				i++
			}
		})
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(float64(r.Stats().Dropped)/float64(b.N), "dropped/op")
	})
}

// BenchmarkStoreEvent is the writer's cost of encoding one event for the store (off the request
// path).
func BenchmarkStoreEvent(b *testing.B) {
	ev := sample(1)
	ev.EventTime, ev.EventID, ev.EventVersion, ev.RecipientAccountID = time.Now(), audit.NewEventID(), audit.EventVersion, acct
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ev.StoreEvent(); err != nil {
			b.Fatal(err)
		}
	}
}

// encodeSample is an event with every part the writer encodes: a session's userIdentity,
// nested requestParameters, responseElements with a date and a list, additionalEventData and
// resources.
func encodeSample() *audit.Event {
	ev := sample(1)
	ev.EventTime, ev.EventID, ev.EventVersion, ev.RecipientAccountID = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), audit.NewEventID(), audit.EventVersion, acct
	ev.EventType, ev.EventCategory, ev.ManagementEvent = audit.EventTypeAPICall, "Management", true
	ev.UserIdentity = &audit.UserIdentity{Type: "AssumedRole", PrincipalID: "AROAEXAMPLE:alice", ARN: "arn:aws:sts::123456789012:assumed-role/admin/alice",
		AccountID: acct, AccessKeyID: "ASIAEXAMPLE", SessionContext: &audit.SessionContext{
			SessionIssuer: &audit.SessionIssuer{Type: "Role", PrincipalID: "AROAEXAMPLE", ARN: "arn:aws:iam::123456789012:role/admin", AccountID: acct, UserName: "admin"},
			Attributes:    audit.SessionAttributes{CreationDate: "2026-03-04T05:00:00Z", MFAAuthenticated: "false"}}}
	ev.UserAgent = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/iam.create-user"
	ev.RequestParameters = map[string]any{"userName": "bob", "path": "/", "tags": []any{map[string]any{"key": "team", "value": "a<b>&c"}}}
	ev.ResponseElements = map[string]any{"user": map[string]any{"path": "/", "userName": "bob", "userId": "AIDAEXAMPLEBOB",
		"arn": "arn:aws:iam::123456789012:user/bob", "createDate": "Mar 4, 2026, 5:06:07 AM", "tags": []any{map[string]any{"key": "team", "value": "a<b>&c"}}}}
	ev.AdditionalEventData = map[string]any{"MFAUsed": "No", "LoginTo": "https://console.example/", "n": int64(3)}
	return ev
}

// BenchmarkEncode is the writer's cost of encoding one event (encodeSample) into the stored
// record and fields (StoreEvent), off the request path.
func BenchmarkEncode(b *testing.B) {
	ev := encodeSample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ev.StoreEvent(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecorderToSQLite is the trail writer's whole cost per event, off the request path:
// filling, encoding and durably appending batches of 1,000 varied events to a SQLite file (the
// events are built off the clock, as the server builds them anyway). cpu-µs/event is the
// process's CPU time (user and system) over the measured part, the figure that adds to the
// server's CPU per request when the trail is on.
func BenchmarkRecorderToSQLite(b *testing.B) {
	const chunk = 1000
	r := audit.NewRecorder(openStore(b), nil, audit.Options{QueueSize: chunk, BatchSize: chunk})
	evs := make([]*audit.Event, chunk)
	var cpu time.Duration
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%chunk == 0 {
			b.StopTimer()
			for i := range evs {
				evs[i] = sample(n + i)
				evs[i].EventTime = time.Now()
			}
			b.StartTimer()
			c0 := storetest.ProcessCPU()
			for _, ev := range evs {
				r.Record(ev)
			}
			if err := r.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			cpu += storetest.ProcessCPU() - c0
		}
		n++
	}
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(max(n, chunk)), "cpu-µs/event")
}
