package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
)

type nodeKind uint8

const (
	nObject nodeKind = iota + 1
	nArray
	nString
	nNumber
	nBool
	nNull
)

// node is a JSON value with its place in the document. Objects keep their members in order,
// duplicates included: Parse refuses them (IAM does for new and edited policies), but
// RewritePrincipals reads documents stored before it did.
type node struct {
	kind       nodeKind
	str        string // string, number (as written) or bool ("true"/"false")
	keys       []string
	vals       []*node
	elems      []*node
	start, end int // byte offsets, end exclusive
	dupKey     int // of an object: the end offset of its first key that repeats an earlier one, 0 if none
}

// get returns the last member named key.
func (n *node) get(key string) *node {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.vals[i]
		}
	}
	return nil
}

const maxDepth = 64

var errSyntax = errors.New("policy: JSON syntax error")

// decodeJSON parses doc strictly: one JSON value, no comments, no trailing commas.
func decodeJSON(doc []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	n, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errSyntax
	}
	return n, nil
}

func decodeValue(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errSyntax
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, errSyntax
	}
	end := int(dec.InputOffset())
	switch t := tok.(type) {
	case json.Delim:
		n := &node{start: end - 1}
		switch t {
		case '{':
			n.kind = nObject
			var seen keySet
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, errSyntax
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errSyntax
				}
				if n.dupKey == 0 && seen.repeats(n.keys, k) {
					n.dupKey = int(dec.InputOffset())
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = nArray
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		default:
			return nil, errSyntax
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, errSyntax
		}
		n.end = int(dec.InputOffset())
		return n, nil
	case string:
		return &node{kind: nString, str: t, end: end}, nil
	case json.Number:
		return &node{kind: nNumber, str: string(t), end: end, start: end - len(t)}, nil
	case bool:
		s := "false"
		if t {
			s = "true"
		}
		return &node{kind: nBool, str: s, end: end, start: end - len(s)}, nil
	case nil:
		return &node{kind: nNull, end: end, start: end - 4}, nil
	}
	return nil, errSyntax
}

// firstDuplicateKey returns the end offset of the first key, in document order, that repeats an
// earlier key of its object; 0 when no object of the tree under n has one.
func firstDuplicateKey(n *node) int {
	first := n.dupKey
	for _, list := range [][]*node{n.vals, n.elems} {
		for _, c := range list {
			if d := firstDuplicateKey(c); d > 0 && (first == 0 || d < first) {
				first = d
			}
		}
	}
	return first
}

// keySet finds repeated keys of one object: by a linear search while the object is small, by
// an index once it is large, so a hostile document costs linear time.
type keySet map[string]bool

const keySetIndexAt = 32

// repeats reports whether k is among keys, the keys of the object before it.
func (s *keySet) repeats(keys []string, k string) bool {
	if len(keys) < keySetIndexAt {
		return slices.Contains(keys, k)
	}
	if *s == nil {
		*s = make(keySet, 2*len(keys))
		for _, key := range keys {
			(*s)[key] = true
		}
	}
	if (*s)[k] {
		return true
	}
	(*s)[k] = true
	return false
}

// position converts a byte offset of doc to a Position.
func position(doc []byte, off int) Position {
	if off > len(doc) {
		off = len(doc)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(doc[:off], []byte{'\n'})
	col := off + 1
	if i := bytes.LastIndexByte(doc[:off], '\n'); i >= 0 {
		col = off - i
	}
	return Position{Offset: off, Line: line, Column: col}
}
