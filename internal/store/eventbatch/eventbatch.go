// Package eventbatch is the stored form of the audit trail that the SQL backends share: events
// are kept in batch rows, one per appended chunk of one account's events, rather than a row (and
// a row per attribute value) each. A batch row holds the account, the least and greatest event
// time, the number of events, a summary (a Bloom filter of the events' attribute values, see
// Summary) and the events themselves (Encode). Appending 1,000 events then writes one batch row
// and 1,000 rows of an id table (the skipping of duplicate ids, and the EventId lookup), not
// ~18,000 B-tree entries.
//
// A page of Events walks an account's batches newest first (by max_time, an index), skips a batch
// whose summary rules the filtered value out, decodes the others and filters their events exactly
// (Page). Batches' time ranges may overlap (events arrive nearly, not exactly, in time order), so a
// page is complete only when no unread batch can hold an event newer than its last one: the walk
// goes on while the next batch's max_time is at least the time of the page's last event (Done).
package eventbatch

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// MaxEvents is the most events a backend puts in one batch row.
const MaxEvents = 1000

// version is the first byte of an encoded batch.
const version = 1

// Batch is one batch row: the events of one account.
type Batch struct {
	Account          string
	MinTime, MaxTime int64 // Unix nanoseconds
	Count            int
	Summary          []byte   // the Bloom filter of the events' attribute values
	Header           []byte   // Encode's form of the events' fields but Data
	Parts            [][]byte // the events' Data, concatenated, PartEvents events a part
}

// PartEvents is how many events' Data one part of a batch holds: a page reads the parts of the
// events it returns, not the whole batch's records.
const PartEvents = 64

// Group splits events by account, each account's in their order, and drops an event whose ID
// an earlier event of events has (the first is the one stored, as a retried append would keep
// it).
func Group(events []store.Event) [][]store.Event {
	if oneAccountAscending(events) {
		// The recorder's usual batch: one account, ids in the order the trail made them
		// (version 7 UUIDs, ascending), so none repeats: the events as they are.
		return [][]store.Event{events}
	}
	seen := make(map[string]struct{}, len(events))
	var groups [][]store.Event
	idx := map[string]int{}
	for _, ev := range events {
		if _, dup := seen[ev.ID]; dup {
			continue
		}
		seen[ev.ID] = struct{}{}
		i, ok := idx[ev.Account]
		if !ok {
			i = len(groups)
			idx[ev.Account] = i
			groups = append(groups, make([]store.Event, 0, len(events)))
		}
		groups[i] = append(groups[i], ev)
	}
	return groups
}

// oneAccountAscending reports whether events are not empty, all of one account, with ids in
// strictly ascending order (so none repeats).
func oneAccountAscending(events []store.Event) bool {
	if len(events) == 0 {
		return false
	}
	for i := 1; i < len(events); i++ {
		if events[i].Account != events[0].Account || events[i].ID <= events[i-1].ID {
			return false
		}
	}
	return true
}

// Split returns groups cut into batches of at most MaxEvents events.
func Split(groups [][]store.Event) [][]store.Event {
	var out [][]store.Event
	for _, g := range groups {
		for len(g) > 0 {
			n := min(len(g), MaxEvents)
			out = append(out, g[:n])
			g = g[n:]
		}
	}
	return out
}

// Encode is the batch row of events, which are of one account and not empty.
//
// The events are a header of the fields Events filters on, and the records (the Data of each,
// concatenated) in parts of PartEvents events, so that a page reads the records of the events it
// returns only:
//
//	header: version byte, varint minTime, uvarint count, uvarint resources in all, then per event:
//	  uvarint time-minTime, flags byte (1: read-only), ID, Name, Source, Username, AccessKeyID
//	  (each uvarint length and bytes), uvarint resources, per resource Type and Name, uvarint
//	  length of Data
func Encode(events []store.Event) Batch {
	b := Batch{Account: events[0].Account, MinTime: math.MaxInt64, MaxTime: math.MinInt64, Count: len(events)}
	nres, hdrLen := 0, 0
	for i := range events {
		ev := &events[i]
		t := ev.Time.UnixNano()
		b.MinTime, b.MaxTime = min(b.MinTime, t), max(b.MaxTime, t)
		nres += len(ev.Resources)
		hdrLen += 16 + len(ev.ID) + len(ev.Name) + len(ev.Source) + len(ev.Username) + len(ev.AccessKeyID)
		for _, r := range ev.Resources {
			hdrLen += 4 + len(r.Type) + len(r.Name)
		}
	}
	hdr := make([]byte, 0, hdrLen+32)
	hdr = append(hdr, version)
	hdr = binary.AppendVarint(hdr, b.MinTime)
	hdr = binary.AppendUvarint(hdr, uint64(len(events)))
	hdr = binary.AppendUvarint(hdr, uint64(nres))
	f := newFilter(len(events)*6 + nres*2)
	for i := range events {
		ev := &events[i]
		hdr = binary.AppendUvarint(hdr, uint64(ev.Time.UnixNano()-b.MinTime))
		var flags byte
		if ev.ReadOnly {
			flags |= 1
		}
		hdr = append(hdr, flags)
		hdr = appendString(hdr, ev.ID)
		hdr = appendString(hdr, ev.Name)
		hdr = appendString(hdr, ev.Source)
		hdr = appendString(hdr, ev.Username)
		hdr = appendString(hdr, ev.AccessKeyID)
		hdr = binary.AppendUvarint(hdr, uint64(len(ev.Resources)))
		for _, r := range ev.Resources {
			hdr = appendString(hdr, r.Type)
			hdr = appendString(hdr, r.Name)
		}
		hdr = binary.AppendUvarint(hdr, uint64(len(ev.Data)))
		f.addEvent(ev)
	}
	for i := 0; i < len(events); i += PartEvents {
		part := events[i:min(i+PartEvents, len(events))]
		n := 0
		for j := range part {
			n += len(part[j].Data)
		}
		data := make([]byte, 0, n)
		for j := range part {
			data = append(data, part[j].Data...)
		}
		b.Parts = append(b.Parts, data)
	}
	b.Header, b.Summary = hdr, f.fold()
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errCorrupt = errors.New("eventbatch: corrupt batch")

// Span is where an event's Data is in its batch's parts.
type Span struct{ Part, Off, Len int }

// Decode returns the events of a batch of account from its header, without their Data, and
// where each one's Data is.
func Decode(account string, header []byte) ([]store.Event, []Span, error) {
	if len(header) == 0 || header[0] != version {
		return nil, nil, errCorrupt
	}
	d := decoder{s: string(header[1:])}
	minTime := d.varint()
	count := d.uvarint()
	nres := d.uvarint()
	if d.err || count > uint64(len(d.s)) || nres > uint64(len(d.s)) {
		return nil, nil, errCorrupt
	}
	events := make([]store.Event, count)
	spans := make([]Span, count)
	resources := make([]store.EventResource, nres)
	off := 0
	for i := range events {
		ev := &events[i]
		ev.Account = account
		ev.Time = time.Unix(0, minTime+int64(d.uvarint())).UTC()
		ev.ReadOnly = d.byte()&1 != 0
		ev.ID, ev.Name, ev.Source, ev.Username, ev.AccessKeyID = d.str(), d.str(), d.str(), d.str(), d.str()
		if k := d.uvarint(); k > 0 {
			if k > uint64(len(resources)) {
				return nil, nil, errCorrupt
			}
			rs := resources[:k:k]
			resources = resources[k:]
			for j := range rs {
				rs[j] = store.EventResource{Type: d.str(), Name: d.str()}
			}
			ev.Resources = rs
		}
		l := d.uvarint()
		if d.err || l > math.MaxInt32 {
			return nil, nil, errCorrupt
		}
		if i%PartEvents == 0 {
			off = 0
		}
		spans[i] = Span{i / PartEvents, off, int(l)}
		off += int(l)
	}
	if d.err {
		return nil, nil, errCorrupt
	}
	return events, spans, nil
}

// DecodeAll returns the events of a batch with their Data (copies of their own), from its
// header and parts.
func DecodeAll(account string, header []byte, parts [][]byte) ([]store.Event, error) {
	events, spans, err := Decode(account, header)
	if err != nil {
		return nil, err
	}
	for i, sp := range spans {
		if sp.Part >= len(parts) || sp.Off+sp.Len > len(parts[sp.Part]) {
			return nil, errCorrupt
		}
		events[i].Data = append([]byte{}, parts[sp.Part][sp.Off:sp.Off+sp.Len]...)
	}
	return events, nil
}

type decoder struct {
	s   string
	err bool
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	var s uint
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if c < 0x80 {
			d.s = d.s[i+1:]
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	d.err = true
	d.s = ""
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) byte() byte {
	if len(d.s) == 0 {
		d.err = true
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) str() string {
	l := d.uvarint()
	if l > uint64(len(d.s)) {
		d.err = true
		d.s = ""
		return ""
	}
	s := d.s[:l]
	d.s = d.s[l:]
	return s
}

// The summary is a Bloom filter of the (attribute, value) pairs an attribute query can find
// (store.EventAttributeValues: every attribute but EventId, which the id table answers), sized
// for about 1% false positives: a filtered page decodes about one batch in a hundred that holds
// no match.
const (
	bitsPerKey = 10
	probes     = 7
)

// attribute codes, hashed before the value.
var attrCode = map[string]byte{
	store.EventAttrEventName: 1, store.EventAttrReadOnly: 2, store.EventAttrUsername: 3,
	store.EventAttrResourceType: 4, store.EventAttrResourceName: 5, store.EventAttrEventSource: 6,
	store.EventAttrAccessKeyID: 7,
}

type filter struct{ bits []byte }

func newFilter(keys int) filter {
	m := max(64, keys*bitsPerKey)
	m = 1 << bits.Len(uint(m-1)) // a power of two
	return filter{bits: make([]byte, m/8)}
}

// hash is FNV-1a (64 bits) of the attribute's code and the value: stable across processes and
// versions, as a stored summary needs.
func hash(code byte, v string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(code)) * prime
	for i := 0; i < len(v); i++ {
		h = (h ^ uint64(v[i])) * prime
	}
	return h
}

// fold halves the filter (ORing its halves: with a power-of-two size, a probe's bit in the half
// is its position modulo the half's size) while the half stays at most half set, the best fill of
// a Bloom filter of 7 probes: a batch of few distinct values gets a small filter without the
// encoder counting them.
func (f filter) fold() []byte {
	b := f.bits
	for len(b) > 64 {
		half := len(b) / 2
		ones := 0
		for i := 0; i < half; i += 8 {
			ones += bits.OnesCount64(binary.LittleEndian.Uint64(b[i:]) | binary.LittleEndian.Uint64(b[half+i:]))
		}
		if ones*2 > half*8 {
			break
		}
		for i := range half {
			b[i] |= b[half+i]
		}
		b = b[:half:half]
	}
	return b
}

func (f filter) add(code byte, v string) {
	if v == "" {
		return
	}
	h := hash(code, v)
	h1, h2 := uint32(h), uint32(h>>32)|1
	mask := uint32(len(f.bits)*8 - 1)
	for i := range uint32(probes) {
		p := (h1 + i*h2) & mask
		f.bits[p>>3] |= 1 << (p & 7)
	}
}

func (f filter) addEvent(ev *store.Event) {
	f.add(1, ev.Name)
	if ev.ReadOnly {
		f.add(2, "true")
	} else {
		f.add(2, "false")
	}
	f.add(3, ev.Username)
	f.add(6, ev.Source)
	f.add(7, ev.AccessKeyID)
	for _, r := range ev.Resources {
		f.add(4, r.Type)
		f.add(5, r.Name)
	}
}

// MayContain reports whether a batch of summary may hold an event whose attr is value; false
// is certain. EventId and unknown attributes are always possible.
func MayContain(summary []byte, attr, value string) bool {
	code, ok := attrCode[attr]
	if !ok || len(summary) == 0 || len(summary)&(len(summary)-1) != 0 {
		return true
	}
	if value == "" {
		return false
	}
	h := hash(code, value)
	h1, h2 := uint32(h), uint32(h>>32)|1
	mask := uint32(len(summary)*8 - 1)
	for i := range uint32(probes) {
		p := (h1 + i*h2) & mask
		if summary[p>>3]&(1<<(p&7)) == 0 {
			return false
		}
	}
	return true
}

// Match reports whether ev has attr's value as an EventQuery selects it.
func Match(ev *store.Event, attr, value string) bool {
	switch attr {
	case "":
		return true
	case store.EventAttrReadOnly:
		return value == "true" && ev.ReadOnly || value == "false" && !ev.ReadOnly
	}
	if value == "" {
		return false
	}
	switch attr {
	case store.EventAttrEventID:
		return ev.ID == value
	case store.EventAttrEventName:
		return ev.Name == value
	case store.EventAttrUsername:
		return ev.Username == value
	case store.EventAttrEventSource:
		return ev.Source == value
	case store.EventAttrAccessKeyID:
		return ev.AccessKeyID == value
	case store.EventAttrResourceType:
		for _, r := range ev.Resources {
			if r.Type == value {
				return true
			}
		}
	case store.EventAttrResourceName:
		for _, r := range ev.Resources {
			if r.Name == value {
				return true
			}
		}
	}
	return false
}

// Page collects the events of one EventQuery from the batches a backend reads newest first (by
// max_time).
type Page struct {
	q      store.EventQuery
	lo, hi int64 // the times the query can select, both inclusive
	evs    []item
}

// item is an event of the page: where it is in its batch's header (decoded when the page is
// complete, so that a batch's events the page does not keep cost no strings), and where its
// Data is.
type item struct {
	t    int64
	id   []byte // in hdr
	hdr  []byte
	pos  int // where the event starts in hdr
	min  int64
	seq  int64
	span Span
}

// NewPage starts the page of q.
func NewPage(q store.EventQuery) *Page {
	p := &Page{q: q, lo: math.MinInt64, hi: math.MaxInt64}
	if !q.Start.IsZero() {
		p.lo = q.Start.UnixNano()
	}
	if !q.End.IsZero() {
		p.hi = q.End.UnixNano()
	}
	if q.Before != nil {
		p.hi = min(p.hi, q.Before.Time.UnixNano())
	}
	return p
}

// Bounds are the times of the events the query can select, both inclusive: a batch that may
// hold one has max_time >= lo and min_time <= hi. Empty is true when none can be selected.
func (p *Page) Bounds() (lo, hi int64, empty bool) { return p.lo, p.hi, p.lo > p.hi }

// Done reports whether the page is complete before a batch whose max_time is maxTime, and so
// before every later batch of the walk (their max_time is no greater): the page holds Limit
// events and its last is newer than any event of that batch (as old is not enough: the batch
// may hold an event of that time with a greater ID, which comes first).
func (p *Page) Done(maxTime int64) bool {
	l := p.q.Limit
	return l > 0 && len(p.evs) >= l && p.evs[l-1].t > maxTime
}

// Skip reports whether a batch of summary certainly holds no event of the page.
func (p *Page) Skip(summary []byte) bool {
	return p.q.Attribute != "" && p.q.Attribute != store.EventAttrEventID && !MayContain(summary, p.q.Attribute, p.q.Value)
}

// view is an event of a header, its strings not copied.
type view struct {
	id, name, source, user, key []byte
	readOnly                    bool
	res                         []byte // the resources, as encoded
	nres                        uint64
}

// byteDecoder reads a header without copying it.
type byteDecoder struct {
	b   []byte
	pos int
	err bool
}

func (d *byteDecoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.err, d.pos = true, len(d.b)
		return 0
	}
	d.pos += n
	return x
}

func (d *byteDecoder) bytes() []byte {
	l := d.uvarint()
	if l > uint64(len(d.b)-d.pos) {
		d.err, d.pos = true, len(d.b)
		return nil
	}
	v := d.b[d.pos : d.pos+int(l) : d.pos+int(l)]
	d.pos += int(l)
	return v
}

// next reads the event at d.pos, returning its time offset.
func (d *byteDecoder) next(v *view) uint64 {
	dt := d.uvarint()
	if d.pos >= len(d.b) {
		d.err = true
		return 0
	}
	v.readOnly = d.b[d.pos]&1 != 0
	d.pos++
	v.id, v.name, v.source, v.user, v.key = d.bytes(), d.bytes(), d.bytes(), d.bytes(), d.bytes()
	v.nres = d.uvarint()
	start := d.pos
	for range min(v.nres, uint64(len(d.b))) {
		d.bytes()
		d.bytes()
	}
	v.res = d.b[start:d.pos]
	return dt
}

// match is Match of a view.
func (v *view) match(attr, value string) bool {
	switch attr {
	case "":
		return true
	case store.EventAttrReadOnly:
		return value == "true" && v.readOnly || value == "false" && !v.readOnly
	}
	if value == "" {
		return false
	}
	switch attr {
	case store.EventAttrEventID:
		return string(v.id) == value
	case store.EventAttrEventName:
		return string(v.name) == value
	case store.EventAttrUsername:
		return string(v.user) == value
	case store.EventAttrEventSource:
		return string(v.source) == value
	case store.EventAttrAccessKeyID:
		return string(v.key) == value
	case store.EventAttrResourceType, store.EventAttrResourceName:
		d := byteDecoder{b: v.res}
		for range v.nres {
			typ, name := d.bytes(), d.bytes()
			if d.err {
				return false
			}
			if attr == store.EventAttrResourceType && string(typ) == value || attr == store.EventAttrResourceName && string(name) == value {
				return true
			}
		}
	}
	return false
}

// add adds the events of batch seq that the query selects, from its header.
func (p *Page) add(seq int64, hdr []byte) error {
	if len(hdr) == 0 || hdr[0] != version {
		return errCorrupt
	}
	d := byteDecoder{b: hdr, pos: 1}
	minTime := int64(0)
	if u := d.uvarint(); u&1 != 0 {
		minTime = ^int64(u >> 1)
	} else {
		minTime = int64(u >> 1)
	}
	count := d.uvarint()
	d.uvarint() // resources in all
	if d.err || count > uint64(len(hdr)) {
		return errCorrupt
	}
	var beforeID []byte
	var beforeT int64
	if b := p.q.Before; b != nil {
		beforeID, beforeT = []byte(b.ID), b.Time.UnixNano()
	}
	// last is the last event of the page when it is full already: an event after it cannot
	// be on the page.
	var last *item
	if l := p.q.Limit; l > 0 && len(p.evs) >= l {
		c := p.evs[l-1]
		last = &c
	}
	added := false
	off := 0
	var v view
	for i := range int(count) {
		pos := d.pos
		t := minTime + int64(d.next(&v))
		l := d.uvarint()
		if d.err || l > math.MaxInt32 {
			return errCorrupt
		}
		if i%PartEvents == 0 {
			off = 0
		}
		span := Span{i / PartEvents, off, int(l)}
		off += int(l)
		if t < p.lo || t > p.hi || !v.match(p.q.Attribute, p.q.Value) {
			continue
		}
		if beforeID != nil && t == beforeT && bytes.Compare(v.id, beforeID) >= 0 {
			continue
		}
		it := item{t: t, id: v.id, hdr: hdr, pos: pos, min: minTime, seq: seq, span: span}
		if last != nil && compareItems(&it, last) > 0 {
			continue
		}
		p.evs = append(p.evs, it)
		added = true
	}
	if !added {
		return nil
	}
	slices.SortFunc(p.evs, func(a, b item) int { return compareItems(&a, &b) })
	if l := p.q.Limit; l > 0 && len(p.evs) > l {
		clear(p.evs[l:])
		p.evs = p.evs[:l]
	}
	return nil
}

// compareItems orders events newest first, by time, then ID.
func compareItems(a, b *item) int {
	if a.t != b.t {
		if a.t > b.t {
			return -1
		}
		return 1
	}
	return bytes.Compare(b.id, a.id)
}

// event decodes the item's event.
func (it *item) event(account string) store.Event {
	d := byteDecoder{b: it.hdr, pos: it.pos}
	var v view
	dt := d.next(&v)
	ev := store.Event{
		ID: string(v.id), Account: account, Time: time.Unix(0, it.min+int64(dt)).UTC(), Name: string(v.name),
		Source: string(v.source), Username: string(v.user), AccessKeyID: string(v.key), ReadOnly: v.readOnly,
	}
	if v.nres > 0 {
		rd := byteDecoder{b: v.res}
		ev.Resources = make([]store.EventResource, 0, min(v.nres, uint64(len(v.res))))
		for range v.nres {
			typ, name := rd.bytes(), rd.bytes()
			if rd.err {
				break
			}
			ev.Resources = append(ev.Resources, store.EventResource{Type: string(typ), Name: string(name)})
		}
	}
	return ev
}

// Events returns the page, reading the events' Data from r: one read per batch.
func (p *Page) Events(ctx context.Context, r Reader) ([]store.Event, error) {
	out := make([]store.Event, len(p.evs))
	bySeq := map[int64][]int{}
	var seqs []int64
	for i := range p.evs {
		out[i] = p.evs[i].event(p.q.Account)
		seq := p.evs[i].seq
		if _, ok := bySeq[seq]; !ok {
			seqs = append(seqs, seq)
		}
		bySeq[seq] = append(bySeq[seq], i)
	}
	for _, seq := range seqs {
		idx := bySeq[seq]
		spans := make([]Span, len(idx))
		for j, i := range idx {
			spans[j] = p.evs[i].span
		}
		var nums []int
		for _, sp := range spans {
			if !slices.Contains(nums, sp.Part) {
				nums = append(nums, sp.Part)
			}
		}
		slices.Sort(nums)
		parts, err := r.Parts(ctx, seq, nums)
		if err != nil {
			return nil, err
		}
		if len(parts) != len(nums) {
			return nil, fmt.Errorf("batch %d: %w", seq, errCorrupt)
		}
		for j, i := range idx {
			sp := spans[j]
			part := parts[slices.Index(nums, sp.Part)]
			if sp.Off+sp.Len > len(part) {
				return nil, fmt.Errorf("batch %d: %w", seq, errCorrupt)
			}
			out[i].Data = append([]byte{}, part[sp.Off:sp.Off+sp.Len]...)
		}
	}
	return out, nil
}

// Meta is a batch row without its events.
type Meta struct {
	Seq              int64
	MinTime, MaxTime int64
	Summary          []byte // only when asked for
}

// Reader reads a backend's batch rows, all in one snapshot of the database.
type Reader interface {
	// Batches returns up to n batches of account with max_time >= lo and min_time <= hi, in the
	// order max_time descending, seq ascending, from the one after `after` (from the first when
	// nil), with their summaries when summaries is true.
	Batches(ctx context.Context, account string, lo, hi int64, after *Meta, n int, summaries bool) ([]Meta, error)
	// Header returns the header column of batch seq; ok is false when there is none.
	Header(ctx context.Context, seq int64) (header []byte, ok bool, err error)
	// Parts returns the parts of batch seq whose numbers are given (ascending, no repeats), in
	// that order.
	Parts(ctx context.Context, seq int64, parts []int) ([][]byte, error)
	// BatchOf returns the batch (seq) of account holding the event of id; ok is false when none
	// does.
	BatchOf(ctx context.Context, account, id string) (seq int64, ok bool, err error)
}

// metaPage is how many batch rows Query reads at a time.
const metaPage = 16

// Query answers q (checked by store.CheckEventQuery) from r: EventId by the id table's one
// batch; otherwise a walk of the account's batches newest first, skipping those whose summary
// rules the value out, until Page.Done.
func Query(ctx context.Context, r Reader, q store.EventQuery) ([]store.Event, error) {
	p := NewPage(q)
	lo, hi, empty := p.Bounds()
	if empty {
		return nil, nil
	}
	if q.Attribute == store.EventAttrEventID {
		seq, ok, err := r.BatchOf(ctx, q.Account, q.Value)
		if err != nil || !ok {
			return nil, err
		}
		if err := p.read(ctx, r, seq); err != nil {
			return nil, err
		}
		return p.Events(ctx, r)
	}
	summaries := q.Attribute != ""
	var after *Meta
	for {
		metas, err := r.Batches(ctx, q.Account, lo, hi, after, metaPage, summaries)
		if err != nil {
			return nil, err
		}
		for i := range metas {
			m := &metas[i]
			if p.Done(m.MaxTime) {
				return p.Events(ctx, r)
			}
			if summaries && p.Skip(m.Summary) {
				continue
			}
			if err := p.read(ctx, r, m.Seq); err != nil {
				return nil, err
			}
		}
		if len(metas) < metaPage {
			return p.Events(ctx, r)
		}
		last := metas[len(metas)-1]
		after = &Meta{Seq: last.Seq, MaxTime: last.MaxTime}
	}
}

// read adds the events of batch seq.
func (p *Page) read(ctx context.Context, r Reader, seq int64) error {
	hdr, ok, err := r.Header(ctx, seq)
	if err != nil || !ok {
		return err // none: deleted since (a backend whose reads are not one snapshot)
	}
	if err := p.add(seq, hdr); err != nil {
		return fmt.Errorf("batch %d: %w", seq, err)
	}
	return nil
}

// Prune splits the events of a batch into those at or after t, kept, and the ids of those
// before it.
func Prune(events []store.Event, t int64) (kept []store.Event, gone []string) {
	for _, ev := range events {
		if ev.Time.UnixNano() < t {
			gone = append(gone, ev.ID)
		} else {
			kept = append(kept, ev)
		}
	}
	return kept, gone
}

// IDs returns the ids of events.
func IDs(events []store.Event) []string {
	ids := make([]string, len(events))
	for i := range events {
		ids[i] = events[i].ID
	}
	return ids
}

// Without returns events without those whose id is in drop.
func Without(events []store.Event, drop map[string]bool) []store.Event {
	out := make([]store.Event, 0, len(events))
	for _, ev := range events {
		if !drop[ev.ID] {
			out = append(out, ev)
		}
	}
	return out
}
