package audit_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// checkSame fails the test when AppendJSON and encoding/json (ReflectJSON) disagree on ev, in
// bytes or in failing.
func checkSame(t *testing.T, ev *audit.Event) {
	t.Helper()
	want, werr := audit.ReflectJSON(ev)
	got, gerr := ev.AppendJSON(nil)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("AppendJSON error %v, encoding/json error %v", gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
	}
	if werr == nil {
		if m, err := json.Marshal(ev); err != nil || !bytes.Equal(m, want) {
			t.Fatalf("json.Marshal (MarshalJSON):\n%s, %v\nwant\n%s", m, err, want)
		}
	}
}

// awkward are strings that encoding/json escapes.
var awkward = []string{"", "plain", `quo"te`, `back\slash`, "<a href='x'>&amp;</a>", "tab\tnl\nret\r", "\b\f\x00\x01\x1f\x7f",
	"é ü 日本", "\u2028\u2029", "bad \xff utf8 \xe2\x82", "emoji 😀", "\ufffd"}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	checkSame(t, &audit.Event{})
	checkSame(t, encodeSample())
	ev := encodeSample()
	ev.Deferred = func(*audit.Event) {}
	checkSame(t, ev)
	for _, s := range awkward {
		ev := encodeSample()
		ev.EventName, ev.UserAgent, ev.ErrorCode, ev.ErrorMessage, ev.SessionCredentialFromConsole = s, s, s, s, s
		ev.UserIdentity.SessionContext.WebIDFederationData = &audit.WebIDFederationData{FederatedProvider: s, Attributes: map[string]string{s: s, "b" + s: "x"}}
		ev.UserIdentity.SessionContext.SourceIdentity = s
		ev.RequestParameters = map[string]any{s: s, "z" + s: []any{s, nil, true, false}, "n": map[string]any{}}
		ev.ResponseElements = []any{s, map[string]string{s: s}, []string{s}, []string(nil), map[string]any(nil), []any(nil)}
		ev.Resources = append(ev.Resources, audit.Resource{Type: s}, audit.Resource{ARN: s, Name: "n"})
		checkSame(t, ev)
	}
	for _, v := range []any{0, -1, int8(-8), int16(16), int32(-32), int64(math.MinInt64), uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64),
		0.0, -0.0, 1.5, 1e-7, 1e21, 123456789.125, 1e20, 5e-324, math.MaxFloat64, float32(1e-7), float32(3.4e38), float32(0.1),
		json.Number("12"), time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), []byte("bytes"), struct{ A int }{1}, map[int]string{2: "b", 1: "a"},
		math.NaN(), math.Inf(1), float32(math.Inf(-1)), func() {}} {
		ev := encodeSample()
		ev.ResponseElements = v
		ev.AdditionalEventData = map[string]any{"v": v}
		checkSame(t, ev)
	}
	// Empty and nil parts that omitempty leaves out or writes as null.
	ev = encodeSample()
	ev.UserIdentity = &audit.UserIdentity{SessionContext: &audit.SessionContext{SessionIssuer: &audit.SessionIssuer{}, WebIDFederationData: &audit.WebIDFederationData{}}}
	ev.RequestParameters, ev.ResponseElements, ev.AdditionalEventData, ev.Resources = map[string]any{}, map[string]any{}, map[string]any{}, []audit.Resource{}
	checkSame(t, ev)
	ev.EventTime = time.Date(2026, 3, 4, 5, 6, 7, 999999999, time.FixedZone("x", 3600))
	checkSame(t, ev)
}

// randomValue is a random value of the shapes requestParameters and responseElements take.
func randomValue(r *rand.Rand, depth int, pick func() string) any {
	switch n := r.IntN(10); {
	case n == 0:
		return nil
	case n == 1:
		return r.IntN(2) == 0
	case n == 2:
		return r.Int64() - r.Int64()
	case n == 3:
		return math.Float64frombits(r.Uint64())
	case n == 4 && depth > 0:
		m := map[string]any{}
		for range r.IntN(5) {
			m[pick()] = randomValue(r, depth-1, pick)
		}
		return m
	case n == 5 && depth > 0:
		var l []any
		for range r.IntN(4) {
			l = append(l, randomValue(r, depth-1, pick))
		}
		return l
	case n == 6:
		return r.IntN(1000)
	}
	return pick()
}

// FuzzAppendJSON compares AppendJSON with encoding/json on events built from the fuzzer's
// strings and a random tree of values.
func FuzzAppendJSON(f *testing.F) {
	for i, s := range awkward {
		f.Add(s, "x"+s, uint64(i))
	}
	f.Fuzz(func(t *testing.T, a, b string, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed>>1))
		strs := []string{a, b, a + b, "k", strings.ToUpper(a)}
		pick := func() string { return strs[r.IntN(len(strs))] }
		ev := encodeSample()
		ev.EventName, ev.UserAgent, ev.ErrorMessage = a, b, a
		ev.UserIdentity.UserName, ev.UserIdentity.ARN = b, a
		ev.UserIdentity.SessionContext.WebIDFederationData = &audit.WebIDFederationData{Attributes: map[string]string{a: b, b: a}}
		ev.RequestParameters, _ = randomValue(r, 4, pick).(map[string]any)
		ev.ResponseElements = randomValue(r, 4, pick)
		ev.AdditionalEventData = map[string]any{a: randomValue(r, 3, pick), b: randomValue(r, 3, pick)}
		ev.Resources = []audit.Resource{{ARN: a, AccountID: b, Type: a}}
		checkSame(t, ev)
	})
}

func TestDeferred(t *testing.T) {
	s := openStore(t)
	r := audit.NewRecorder(s, nil, audit.Options{})
	calls := 0
	ev := &audit.Event{EventSource: "iam.amazonaws.com", EventName: "CreateUser", Deferred: func(e *audit.Event) {
		calls++
		e.UserIdentity = &audit.UserIdentity{Type: "IAMUser", AccountID: acct, UserName: "alice", AccessKeyID: "AKIAEXAMPLE"}
		e.RequestParameters = map[string]any{"userName": "bob"}
		e.ResponseElements = map[string]any{"user": map[string]any{"userName": "bob"}}
		e.Resources = []audit.Resource{{Type: "AWS::IAM::User", Name: "bob"}}
	}}
	// Record stays allocation-free with a Deferred (another recorder, never flushed).
	queued := audit.NewRecorder(discardLog{}, nil, audit.Options{QueueSize: 1000, BatchSize: 1000})
	probe := &audit.Event{EventTime: time.Now(), Deferred: ev.Deferred}
	if n := testing.AllocsPerRun(100, func() { queued.Record(probe) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
	if calls != 0 {
		t.Fatalf("Deferred ran on Record")
	}
	r.Record(ev)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || ev.Deferred != nil {
		t.Fatalf("Deferred ran %d times (cleared: %v)", calls, ev.Deferred == nil)
	}
	evs, err := s.Events(t.Context(), store.EventQuery{Account: acct, Attribute: store.EventAttrUsername, Value: "alice"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events of the deferred identity: %d, %v", len(evs), err)
	}
	got := evs[0]
	if got.AccessKeyID != "AKIAEXAMPLE" || len(got.Resources) != 1 || got.Resources[0].Name != "bob" ||
		!strings.Contains(string(got.Data), `"requestParameters":{"userName":"bob"}`) || !strings.Contains(string(got.Data), `"recipientAccountId":"123456789012"`) {
		t.Errorf("stored %+v\n%s", got, got.Data)
	}
	// A Deferred that panics loses its event (counted as failed), not the writer.
	before := r.Stats().Failed
	r.Record(&audit.Event{EventName: "Boom", Deferred: func(*audit.Event) { panic("boom") }})
	r.Record(sample(7))
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Failed != before+1 || st.Written != 2 {
		t.Errorf("after a panicking Deferred: %+v", st)
	}
	// Fill runs Deferred once, and before the defaults that depend on it.
	ev2 := &audit.Event{Deferred: func(e *audit.Event) { e.UserIdentity = &audit.UserIdentity{AccountID: "210987654321"} }}
	ev2.Fill()
	ev2.Fill()
	if ev2.RecipientAccountID != "210987654321" {
		t.Errorf("RecipientAccountID = %q", ev2.RecipientAccountID)
	}
}
