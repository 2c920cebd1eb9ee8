package store

import (
	"context"
	"fmt"
	"time"
)

// EventLog is a Store that keeps the audit trail apart from the records: appending never counts
// as a change (it does not go through Update, so no node drops its caches for it), and Dump does
// not include events.
type EventLog interface {
	// AppendEvents stores events in transactions of its own (a backend may split a long batch),
	// durable when it returns. An event whose ID is already stored is skipped, so that a retried
	// batch is not stored twice (also when a failure left a part of it stored). It does not
	// keep the events (nor their Data) after it returns: the caller may reuse their memory.
	AppendEvents(ctx context.Context, events []Event) error
	// Events returns the events q selects, newest first (by Time, then by ID, both descending).
	Events(ctx context.Context, q EventQuery) ([]Event, error)
	// DeleteEventsBefore deletes the events of every account whose Time is before t and
	// returns how many it deleted.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Event is one stored audit event: the CloudTrail record (Data) with the fields LookupEvents
// selects and returns beside it.
type Event struct {
	ID          string // unique across accounts (CloudTrail's eventID)
	Account     string // the account whose trail holds the event
	Time        time.Time
	Name        string // eventName
	Source      string // eventSource
	Username    string
	AccessKeyID string
	ReadOnly    bool
	Resources   []EventResource
	Data        []byte // the whole CloudTrail JSON record
}

// EventResource is one resource an event names, as LookupEvents returns it.
type EventResource struct{ Type, Name string }

// EventCursor is the position of one event in the newest-first order of Events.
type EventCursor struct {
	Time time.Time
	ID   string
}

// EventQuery selects events of one account for Events.
type EventQuery struct {
	Account string
	// Start and End bound Time, both inclusive; a zero time leaves that side open.
	Start, End time.Time
	// Attribute is one of the LookupEvents attribute keys (the EventAttr constants), or "" for
	// none; Value must then equal the event's value of it exactly (for EventAttrReadOnly,
	// "true" or "false"; for the resource attributes, any resource of the event).
	Attribute, Value string
	// Before, when not nil, selects only events after it in newest-first order (older, or as
	// old with a smaller ID): the page after the one that ended with it.
	Before *EventCursor
	// Limit caps the events returned; 0 means no limit.
	Limit int
}

// The LookupEvents attribute keys an EventQuery may filter on, spelled as CloudTrail's API
// spells them (LookupAttributeKey).
const (
	EventAttrEventID      = "EventId"
	EventAttrEventName    = "EventName"
	EventAttrReadOnly     = "ReadOnly"
	EventAttrUsername     = "Username"
	EventAttrResourceType = "ResourceType"
	EventAttrResourceName = "ResourceName"
	EventAttrEventSource  = "EventSource"
	EventAttrAccessKeyID  = "AccessKeyId"
)

// EventAttributes lists the attribute keys in the order of CloudTrail's API model.
var EventAttributes = []string{
	EventAttrEventID, EventAttrEventName, EventAttrReadOnly, EventAttrUsername,
	EventAttrResourceType, EventAttrResourceName, EventAttrEventSource, EventAttrAccessKeyID,
}

// CheckEventQuery returns an error for a query no backend can answer: an unknown attribute.
func CheckEventQuery(q EventQuery) error {
	if q.Attribute == "" {
		return nil
	}
	for _, a := range EventAttributes {
		if a == q.Attribute {
			return nil
		}
	}
	return fmt.Errorf("store: unknown event attribute %q", q.Attribute)
}

// EventAttributeValues returns the (attribute, value) pairs of ev that an attribute query can
// find, each pair once, EventId apart (backends find it by the event's ID). The SQL backends
// summarize them per batch of events (internal/store/eventbatch), which decides by them which
// batches an attribute query reads.
func EventAttributeValues(ev Event) [][2]string {
	ro := "false"
	if ev.ReadOnly {
		ro = "true"
	}
	out := make([][2]string, 0, 6+2*len(ev.Resources))
	add := func(attr, v string) {
		if v == "" {
			return
		}
		for _, p := range out {
			if p[0] == attr && p[1] == v {
				return
			}
		}
		out = append(out, [2]string{attr, v})
	}
	add(EventAttrEventName, ev.Name)
	add(EventAttrReadOnly, ro)
	add(EventAttrUsername, ev.Username)
	add(EventAttrEventSource, ev.Source)
	add(EventAttrAccessKeyID, ev.AccessKeyID)
	for _, r := range ev.Resources {
		add(EventAttrResourceType, r.Type)
		add(EventAttrResourceName, r.Name)
	}
	return out
}
