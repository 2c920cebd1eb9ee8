package condition

import (
	"sort"
	"strings"
)

// Value is the value of one context key: one string for a single-valued key, any number for a
// multivalued key (aws:TagKeys, aws:CalledVia, ...).
type Value struct {
	Values []string
	Multi  bool // the key is multivalued, even with one or no values
}

// Context holds the condition keys of a request. Key names are case-insensitive. The zero
// Context is empty and ready to use; a Context is not safe for concurrent writes.
type Context struct {
	keys map[string]entry // by lower-cased key
}

type entry struct {
	name string // as first set, for reporting
	val  Value
}

// Set sets a single-valued key.
func (c *Context) Set(key, value string) {
	c.put(key, Value{Values: []string{value}})
}

// SetMulti sets a multivalued key; values may be empty (an empty set, not a missing key).
func (c *Context) SetMulti(key string, values ...string) {
	c.put(key, Value{Values: append([]string(nil), values...), Multi: true})
}

func (c *Context) put(key string, v Value) {
	if c.keys == nil {
		c.keys = make(map[string]entry)
	}
	c.keys[strings.ToLower(key)] = entry{name: key, val: v}
}

// Delete removes key.
func (c *Context) Delete(key string) {
	delete(c.keys, strings.ToLower(key))
}

// Get returns the value of key, ignoring case.
func (c *Context) Get(key string) (Value, bool) {
	if c == nil || c.keys == nil {
		return Value{}, false
	}
	if e, ok := c.keys[key]; ok { // fast path: key already lower case
		return e.val, true
	}
	e, ok := c.keys[strings.ToLower(key)]
	return e.val, ok
}

// lookup returns the value of a key already in lower case; it does not allocate.
func (c *Context) lookup(lower string) (Value, bool) {
	if c == nil || c.keys == nil {
		return Value{}, false
	}
	e, ok := c.keys[lower]
	return e.val, ok
}

// Keys returns the key names in the context, sorted.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.keys))
	for _, e := range c.keys {
		out = append(out, e.name)
	}
	sort.Strings(out)
	return out
}

// Len returns the number of keys.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.keys)
}
