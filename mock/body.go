package mock

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/goccy/go-yaml/ast"
)

// Limits that keep a hostile or mistaken file from exhausting memory at load or request time.
const (
	maxBodyNodes = 20000 // values in one body, aliases expanded
	maxBodyDepth = 64
)

// jkind is the kind of a compiled JSON value.
type jkind uint8

const (
	jObject jkind = iota
	jArray
	jRaw         // a literal already encoded as JSON
	jPlaceholder // a string with {{ }} actions, rendered per request
	jRequestID   // the request's id, as a JSON string
	jText        // a placeholder rendered as plain text
)

// jnode is one value of a body between YAML and the flat segment list.
type jnode struct {
	kind  jkind
	keys  []string
	vals  []*jnode
	raw   []byte
	ph    *placeholder
	line  int
	empty bool   // an empty string literal, dropped from JSON:API error objects
	text  string // a string literal's text, for bodies that are not JSON
}

// bodyCompiler turns a YAML node into a jnode tree, expanding aliases within a budget.
type bodyCompiler struct {
	ft      *funcTypes
	anchors map[string]ast.Node
	nodes   int

	aliasLine int // line of the outermost alias being expanded; 0 outside one
}

func (c *bodyCompiler) compile(n ast.Node, depth int) (*jnode, error) {
	if n == nil {
		return &jnode{kind: jRaw, raw: []byte("null")}, nil
	}
	line := nodeLine(n)
	if c.aliasLine != 0 {
		// Inside an alias's expansion: the alias, not the anchored text it copies, is what to fix.
		line = c.aliasLine
	}
	c.nodes++
	if c.nodes > maxBodyNodes {
		return nil, lineErr(line, "body has more than %d values (aliases expanded); refusing to expand it", maxBodyNodes)
	}
	if depth > maxBodyDepth {
		return nil, lineErr(line, "body is nested deeper than %d levels", maxBodyDepth)
	}
	switch v := n.(type) {
	case *ast.DocumentNode:
		return c.compile(v.Body, depth)
	case *ast.AnchorNode:
		if name, ok := v.Name.(*ast.StringNode); ok {
			c.anchors[name.Value] = v.Value
		}
		return c.compile(v.Value, depth)
	case *ast.AliasNode:
		name := ""
		if s, ok := v.Value.(*ast.StringNode); ok {
			name = s.Value
		}
		target, ok := c.anchors[name]
		if !ok {
			return nil, lineErr(line, "alias *%s refers to no anchor defined before it", name)
		}
		if c.aliasLine == 0 {
			c.aliasLine = line
			defer func() { c.aliasLine = 0 }()
		}
		return c.compile(target, depth+1)
	case *ast.TagNode:
		if v.Start != nil && v.Start.Value == "!!str" {
			return c.stringNode(scalarText(v.Value), line)
		}
		return c.compile(v.Value, depth)
	case *ast.MappingNode:
		return c.mapping(v.Values, line, depth)
	case *ast.MappingValueNode:
		return c.mapping([]*ast.MappingValueNode{v}, line, depth)
	case *ast.SequenceNode:
		out := &jnode{kind: jArray, line: line}
		for _, item := range v.Values {
			jn, err := c.compile(item, depth+1)
			if err != nil {
				return nil, err
			}
			out.vals = append(out.vals, jn)
		}
		return out, nil
	case *ast.StringNode:
		return c.stringNode(v.Value, line)
	case *ast.LiteralNode:
		return c.stringNode(v.Value.Value, line)
	case *ast.IntegerNode:
		return &jnode{kind: jRaw, raw: []byte(fmt.Sprint(v.Value)), line: line}, nil
	case *ast.FloatNode:
		if math.IsInf(v.Value, 0) || math.IsNaN(v.Value) {
			return nil, lineErr(line, "%v cannot be written as JSON", v.Value)
		}
		raw, _ := json.Marshal(v.Value)
		return &jnode{kind: jRaw, raw: raw, line: line}, nil
	case *ast.BoolNode:
		return &jnode{kind: jRaw, raw: []byte(strconv.FormatBool(v.Value)), line: line}, nil
	case *ast.NullNode:
		return &jnode{kind: jRaw, raw: []byte("null"), line: line}, nil
	case *ast.InfinityNode, *ast.NanNode:
		return nil, lineErr(line, "%s cannot be written as JSON", n.String())
	case *ast.MergeKeyNode:
		return nil, lineErr(line, "merge keys (<<) are not supported in a body")
	}
	return nil, lineErr(line, "unsupported YAML value %s", n.Type())
}

func (c *bodyCompiler) mapping(values []*ast.MappingValueNode, line, depth int) (*jnode, error) {
	out := &jnode{kind: jObject, line: line}
	seen := map[string]bool{}
	for _, mv := range values {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			return nil, lineErr(nodeLine(mv), "merge keys (<<) are not supported in a body")
		}
		key := scalarText(mv.Key)
		if seen[key] {
			return nil, lineErr(nodeLine(mv.Key), "duplicate key %q", key)
		}
		seen[key] = true
		val, err := c.compile(mv.Value, depth+1)
		if err != nil {
			return nil, err
		}
		out.keys = append(out.keys, key)
		out.vals = append(out.vals, val)
	}
	return out, nil
}

func (c *bodyCompiler) stringNode(s string, line int) (*jnode, error) {
	if strings.Contains(s, "{{") {
		ph, err := c.ft.compilePlaceholder(s)
		if err != nil {
			return nil, lineErr(line, "%s", err.Error())
		}
		return &jnode{kind: jPlaceholder, ph: ph, line: line}, nil
	}
	return &jnode{kind: jRaw, raw: appendJSONString(nil, s), line: line, empty: s == "", text: s}, nil
}

// errorMemberOrder is the member order of the real framework's error objects.
var errorMemberOrder = []string{"id", "links", "status", "code", "title", "detail", "source", "meta"}

// asErrorDocument makes each object in root.errors look like the real server's: id is the
// request id, status the HTTP status, members in the framework's order, empty strings omitted.
func asErrorDocument(root *jnode, status int) bool {
	if root == nil || root.kind != jObject {
		return false
	}
	var errs *jnode
	for i, k := range root.keys {
		if k == "errors" && root.vals[i].kind == jArray {
			errs = root.vals[i]
		}
	}
	if errs == nil {
		return false
	}
	for _, e := range errs.vals {
		if e.kind != jObject {
			continue
		}
		members := map[string]*jnode{}
		var extra []string
		for i, k := range e.keys {
			if e.vals[i].empty {
				continue
			}
			members[k] = e.vals[i]
			if !slices.Contains(errorMemberOrder, k) {
				extra = append(extra, k)
			}
		}
		members["id"] = &jnode{kind: jRequestID}
		members["status"] = &jnode{kind: jRaw, raw: appendJSONString(nil, strconv.Itoa(status))}
		e.keys, e.vals = nil, nil
		for _, k := range append(append([]string{}, errorMemberOrder...), extra...) {
			if v, ok := members[k]; ok {
				e.keys = append(e.keys, k)
				e.vals = append(e.vals, v)
			}
		}
	}
	return true
}

// segment is a run of fixed bytes or one value rendered per request.
type segment struct {
	kind   jkind // jRaw for fixed bytes, jPlaceholder or jRequestID
	static []byte
	ph     *placeholder
	line   int
}

// textBody is a string body sent as it is, for scenarios whose Content-Type is not JSON
// (an HTML error page from a gateway, say); placeholders in it render unquoted.
func textBody(n *jnode) (*body, bool) {
	switch {
	case n.kind == jRaw && len(n.raw) > 0 && n.raw[0] == '"':
		return &body{segs: []segment{{kind: jRaw, static: []byte(n.text)}}, size: len(n.text)}, true
	case n.kind == jPlaceholder:
		return &body{segs: []segment{{kind: jText, ph: n.ph, line: n.line}}, dynamic: true}, true
	}
	return nil, false
}

// body is a compiled response body: fixed JSON with holes, indented like the real server's.
type body struct {
	segs    []segment
	dynamic bool
	size    int // length of the fixed parts, to size buffers
}

// flatten encodes the tree as two-space indented JSON, merging fixed runs.
func flatten(root *jnode) *body {
	b := &body{}
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			b.segs = append(b.segs, segment{kind: jRaw, static: cur})
			b.size += len(cur)
			cur = nil
		}
	}
	var walk func(n *jnode, depth int)
	indent := func(depth int) {
		cur = append(cur, '\n')
		for range depth {
			cur = append(cur, ' ', ' ')
		}
	}
	walk = func(n *jnode, depth int) {
		switch n.kind {
		case jObject:
			if len(n.keys) == 0 {
				cur = append(cur, '{', '}')
				return
			}
			cur = append(cur, '{')
			for i, k := range n.keys {
				if i > 0 {
					cur = append(cur, ',')
				}
				indent(depth + 1)
				cur = appendJSONString(cur, k)
				cur = append(cur, ':', ' ')
				walk(n.vals[i], depth+1)
			}
			indent(depth)
			cur = append(cur, '}')
		case jArray:
			if len(n.vals) == 0 {
				cur = append(cur, '[', ']')
				return
			}
			cur = append(cur, '[')
			for i, v := range n.vals {
				if i > 0 {
					cur = append(cur, ',')
				}
				indent(depth + 1)
				walk(v, depth+1)
			}
			indent(depth)
			cur = append(cur, ']')
		case jRaw:
			cur = append(cur, n.raw...)
		case jPlaceholder, jRequestID:
			flush()
			b.segs = append(b.segs, segment{kind: n.kind, ph: n.ph, line: n.line})
			b.dynamic = true
		}
	}
	walk(root, 0)
	cur = append(cur, '\n')
	flush()
	return b
}

// render appends the body for one request to dst.
func (b *body) render(dst []byte, f *faker, v *Vars) ([]byte, error) {
	for i := range b.segs {
		s := &b.segs[i]
		switch s.kind {
		case jRaw:
			dst = append(dst, s.static...)
		case jRequestID:
			dst = appendJSONString(dst, v.RequestID)
		case jPlaceholder, jText:
			out, err := f.run(s.ph, v)
			if err != nil {
				msg := cleanTemplateError(err)
				if strings.Contains(msg, "can't evaluate field") {
					msg += " (request fields: .Provider, .RequestID, .Session, .Scenario, .Status)"
				}
				return dst, lineErr(s.line, "placeholder: %s", msg)
			}
			if s.kind == jText {
				dst = append(dst, out...)
			} else if s.ph.typed && isJSONScalar(out) {
				dst = append(dst, out...)
			} else {
				// out is only read while appending, so viewing it as a string needs no copy.
				dst = appendJSONString(dst, unsafe.String(unsafe.SliceData(out), len(out)))
			}
		}
	}
	return dst, nil
}

// isJSONScalar reports whether b is a JSON number or boolean as written by fmt.
func isJSONScalar(b []byte) bool {
	s := string(b)
	if s == "true" || s == "false" {
		return true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	// ParseFloat accepts forms JSON does not ("+1", "0x10", "1_000", ".5").
	return json.Valid(b)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, byte for byte as encoding/json writes it without
// HTML escaping: invalid UTF-8 becomes U+FFFD, \b and \f are short escapes (since Go 1.22).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
