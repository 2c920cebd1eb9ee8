package awsquery

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

//go:embed model/*.json.gz
var modelFiles embed.FS

// Model is one AWS service's API model (from the AWS SDK models), as the protocol layer needs it.
type Model struct {
	APIVersion     string
	EndpointPrefix string
	XMLNamespace   string
	Operations     map[string]*OperationModel
	Shapes         map[string]*Shape
}

// OperationModel names an operation's input and output shapes.
type OperationModel struct {
	Name          string
	Input         *Shape
	Output        *Shape
	ResultWrapper string
}

// Shape is a type of the API model with its constraints.
type Shape struct {
	Name     string
	Type     string // structure, list, map, string, integer, long, boolean, timestamp, blob
	Members  map[string]*Shape
	Order    []string // member names in a stable order
	Required map[string]bool
	Member   *Shape // list element
	Key      *Shape // map key
	Value    *Shape // map value
	Min, Max *float64
	Pattern  *Pattern
	RawPat   string
	Enum     []string
	Error    *ErrorInfo
	// How AWS words validation errors of this shape, where the models do not say (messages.go).
	Messages MessageRule
	// fields caches, per Go struct type, the field of each member in Order (fields.go).
	fields sync.Map // reflect.Type -> []fieldIndex
}

// ErrorInfo is the wire form of a modelled exception.
type ErrorInfo struct {
	Code   string
	Status int
	Sender bool
}

type rawModel struct {
	Metadata struct {
		APIVersion     string `json:"apiVersion"`
		EndpointPrefix string `json:"endpointPrefix"`
		XMLNamespace   string `json:"xmlNamespace"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *struct{ Shape string } `json:"input"`
		Output *struct {
			Shape         string `json:"shape"`
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]rawShape `json:"shapes"`
}

type rawShape struct {
	Type     string                            `json:"type"`
	Members  map[string]struct{ Shape string } `json:"members"`
	Required []string                          `json:"required"`
	Member   *struct{ Shape string }           `json:"member"`
	Key      *struct{ Shape string }           `json:"key"`
	Value    *struct{ Shape string }           `json:"value"`
	Min      *float64                          `json:"min"`
	Max      *float64                          `json:"max"`
	Pattern  string                            `json:"pattern"`
	Enum     []string                          `json:"enum"`
	Error    *struct {
		Code   string `json:"code"`
		Status int    `json:"httpStatusCode"`
		Sender bool   `json:"senderFault"`
	} `json:"error"`
}

// LoadModel reads the embedded model of service ("iam" or "sts").
func LoadModel(service string) (*Model, error) {
	f, err := modelFiles.Open("model/" + service + ".json.gz")
	if err != nil {
		return nil, fmt.Errorf("awsquery: no model for %q: %w", service, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("awsquery: model %s: %w", service, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("awsquery: model %s: %w", service, err)
	}
	m, err := parseModel(data)
	if err != nil {
		return nil, err
	}
	for name, r := range messageRules[service] {
		s, ok := m.Shapes[name]
		if !ok {
			return nil, fmt.Errorf("awsquery: message rule for unknown %s shape %q", service, name)
		}
		s.Messages = r
	}
	return m, nil
}

func parseModel(data []byte) (*Model, error) {
	var raw rawModel
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("awsquery: decode model: %w", err)
	}
	m := &Model{
		APIVersion:     raw.Metadata.APIVersion,
		EndpointPrefix: raw.Metadata.EndpointPrefix,
		XMLNamespace:   raw.Metadata.XMLNamespace,
		Operations:     map[string]*OperationModel{},
		Shapes:         map[string]*Shape{},
	}
	for name := range raw.Shapes {
		m.Shapes[name] = &Shape{Name: name}
	}
	ref := func(name string) (*Shape, error) {
		s, ok := m.Shapes[name]
		if !ok {
			return nil, fmt.Errorf("awsquery: model refers to unknown shape %q", name)
		}
		return s, nil
	}
	for name, rs := range raw.Shapes {
		s := m.Shapes[name]
		s.Type, s.Min, s.Max, s.Enum, s.RawPat = rs.Type, rs.Min, rs.Max, rs.Enum, rs.Pattern
		if rs.Pattern != "" {
			// The models use Java regular expressions; \uXXXX is the only syntax RE2 lacks among
			// them. A pattern RE2 cannot express (look-ahead) is left unchecked.
			if p, err := compilePattern(javaToRE2(rs.Pattern)); err == nil {
				s.Pattern = p
			}
		}
		if rs.Error != nil {
			s.Error = &ErrorInfo{Code: rs.Error.Code, Status: rs.Error.Status, Sender: rs.Error.Sender}
		}
		if len(rs.Members) > 0 {
			s.Members = map[string]*Shape{}
			s.Required = map[string]bool{}
			for mn, mr := range rs.Members {
				ms, err := ref(mr.Shape)
				if err != nil {
					return nil, err
				}
				s.Members[mn] = ms
				s.Order = append(s.Order, mn)
			}
			slices.Sort(s.Order)
			for _, r := range rs.Required {
				s.Required[r] = true
			}
		}
		var err error
		if rs.Member != nil {
			if s.Member, err = ref(rs.Member.Shape); err != nil {
				return nil, err
			}
		}
		if rs.Key != nil {
			if s.Key, err = ref(rs.Key.Shape); err != nil {
				return nil, err
			}
		}
		if rs.Value != nil {
			if s.Value, err = ref(rs.Value.Shape); err != nil {
				return nil, err
			}
		}
	}
	for name, ro := range raw.Operations {
		op := &OperationModel{Name: name}
		var err error
		if ro.Input != nil {
			if op.Input, err = ref(ro.Input.Shape); err != nil {
				return nil, err
			}
		}
		if ro.Output != nil {
			if op.Output, err = ref(ro.Output.Shape); err != nil {
				return nil, err
			}
			op.ResultWrapper = ro.Output.ResultWrapper
		}
		m.Operations[name] = op
	}
	return m, nil
}

// javaToRE2 rewrites Java's \uXXXX escapes as RE2's \x{XXXX}.
func javaToRE2(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+6 <= len(p) && p[i+1] == 'u' {
			b.WriteString(`\x{` + p[i+2:i+6] + `}`)
			i += 5
			continue
		}
		if p[i] == '\\' && i+1 < len(p) {
			b.WriteString(p[i : i+2])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// goFieldName is the aws-sdk-go-v2 struct field of a model member: the member name with its
// first letter upper-cased (the STS model spells PolicyDescriptorType's member "arn").
func goFieldName(member string) string {
	if member == "" || (member[0] >= 'A' && member[0] <= 'Z') {
		return member
	}
	return strings.ToUpper(member[:1]) + member[1:]
}
