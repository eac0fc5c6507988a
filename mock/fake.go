package mock

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// Vars are the request values a placeholder reads as fields, e.g. {{ .Provider }}.
type Vars struct {
	Provider  string
	RequestID string
	Session   string
	Scenario  string
	Status    int
}

// excludedFuncs are gofakeit methods its own Template feature leaves out, plus ones that
// need arguments a placeholder cannot express.
// Images are excluded too: binary data has no place in a JSON string.
var excludedFuncs = []string{"RandomMapKey", "SQL", "Template", "Struct", "Slice", "Seed", "Image", "ImageJpeg", "ImagePng"}

// sizeFuncs are the functions whose numeric arguments set the size of what they produce; those
// arguments must be literal numbers whose product stays within maxPlaceholderSize, so that no
// placeholder can take unbounded time or memory at load or per request.
var sizeFuncs = []string{"Dice", "DigitN", "HexUint", "LetterN", "LoremIpsumParagraph", "LoremIpsumSentence", "Paragraph", "Password", "Sentence", "UrlSlug", "Token"}

// Bounds on what one placeholder may produce.
const (
	maxPlaceholderSize   = 4096    // product of a size function's numeric arguments
	maxPlaceholderOutput = 1 << 20 // bytes one placeholder may write
)

// tokenAlphabet is the base64url alphabet: opaque OAuth tokens are usually drawn from it.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// maxTokenLen bounds Token so a placeholder cannot ask for gigabytes.
const maxTokenLen = 4096

// funcMap builds the placeholder functions bound to one faker: gofakeit's methods, the helpers its
// Template feature adds, and Token.
func funcMap(f *gofakeit.Faker, r *rand.Rand) template.FuncMap {
	fm := template.FuncMap{}
	v := reflect.ValueOf(f)
	t := v.Type()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumOut() == 0 || m.Type.NumOut() > 2 || slices.Contains(excludedFuncs, m.Name) {
			continue
		}
		if m.Type.NumOut() == 2 && m.Type.Out(1) != reflect.TypeFor[error]() {
			continue
		}
		fm[m.Name] = v.Method(i).Interface()
	}
	fm["ToUpper"] = strings.ToUpper
	fm["ToLower"] = strings.ToLower
	fm["ToInt"] = func(a any) int {
		switch x := a.(type) {
		case string:
			n, _ := strconv.Atoi(x)
			return n
		case float64:
			return int(x)
		case int:
			return x
		}
		return 0
	}
	fm["ToFloat"] = func(a any) float64 {
		switch x := a.(type) {
		case string:
			n, _ := strconv.ParseFloat(x, 64)
			return n
		case float64:
			return x
		case int:
			return float64(x)
		}
		return 0
	}
	fm["ToString"] = func(a any) string { return fmt.Sprint(a) }
	fm["ToDate"] = func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return time.Now()
		}
		return d
	}
	fm["SliceAny"] = func(a ...any) []any { return a }
	fm["SliceString"] = func(a ...string) []string { return a }
	fm["SliceInt"] = func(a ...int) []int { return a }
	fm["SliceUInt"] = func(a ...uint) []uint { return a }
	fm["SliceF32"] = func(a ...float32) []float32 { return a }
	fm["Token"] = func(n int) (string, error) {
		if n < 1 || n > maxTokenLen {
			return "", fmt.Errorf("token length %d outside 1..%d", n, maxTokenLen)
		}
		return string(appendToken(nil, r, n)), nil
	}
	return fm
}

// appendToken appends n base64url characters, ten from each 64-bit draw (6 bits apiece).
func appendToken(b []byte, r interface{ Uint64() uint64 }, n int) []byte {
	for n > 0 {
		x := r.Uint64()
		for i := 0; i < 10 && n > 0; i++ {
			b = append(b, tokenAlphabet[x&63])
			x >>= 6
			n--
		}
	}
	return b
}

// faker is one goroutine's source of fake data: a reseedable generator and the placeholder
// templates bound to it. Fakers are pooled per scenario set, never shared by two requests at once.
type faker struct {
	src    *rand.PCG
	rnd    *rand.Rand
	fake   *gofakeit.Faker
	funcs  template.FuncMap
	clones map[*template.Template]*template.Template
	out    bytes.Buffer
}

// newFaker is cheap: the template functions are bound only if a placeholder needs the full
// template engine, since a pool may recreate fakers after every garbage collection.
func newFaker() *faker {
	src := rand.NewPCG(rand.Uint64(), rand.Uint64())
	return &faker{src: src, rnd: rand.New(src), fake: gofakeit.NewFaker(src, false)}
}

// seed restarts the generator, so equal seeds give equal data.
func (f *faker) seed(a, b uint64) { f.src.Seed(a, b) }

// exec runs a placeholder template with this faker's functions and returns its text; the slice
// is valid until the next exec.
func (f *faker) exec(t *template.Template, v *Vars) ([]byte, error) {
	if f.funcs == nil {
		f.funcs = funcMap(f.fake, f.rnd)
		f.clones = map[*template.Template]*template.Template{}
	}
	c, ok := f.clones[t]
	if !ok {
		var err error
		if c, err = t.Clone(); err != nil {
			return nil, fmt.Errorf("clone placeholder: %w", err)
		}
		c.Funcs(f.funcs)
		f.clones[t] = c
	}
	f.out.Reset()
	if err := c.Execute(&cappedWriter{buf: &f.out, left: maxPlaceholderOutput}, v); err != nil {
		return nil, err
	}
	return f.out.Bytes(), nil
}

// cappedWriter stops a template once it has written maxPlaceholderOutput bytes.
type cappedWriter struct {
	buf  *bytes.Buffer
	left int
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, fmt.Errorf("placeholder output exceeds %d bytes", maxPlaceholderOutput)
	}
	w.left -= len(p)
	return w.buf.Write(p)
}

// funcTypes lists each placeholder function's Go type, for parsing and for telling which
// placeholders produce numbers or booleans.
type funcTypes struct {
	parse template.FuncMap
	types map[string]reflect.Type
}

func newFuncTypes() *funcTypes {
	src := rand.NewPCG(1, 1)
	fm := funcMap(gofakeit.NewFaker(src, false), rand.New(src))
	ft := &funcTypes{parse: fm, types: make(map[string]reflect.Type, len(fm))}
	for name, fn := range fm {
		ft.types[name] = reflect.TypeOf(fn)
	}
	return ft
}

// placeholder is a compiled string value holding {{ ... }} actions. Simple ones (text, fields,
// calls with literal arguments) run as direct calls; anything else runs through text/template.
type placeholder struct {
	tmpl  *template.Template
	typed bool     // exactly one call whose function returns a number or a boolean
	parts []phPart // the direct form; nil when the template engine is needed
}

// phPart is one piece of a direct placeholder: fixed text, a request field, or a call.
type phPart struct {
	text   string
	field  string        // a Vars field name
	method reflect.Value // a *gofakeit.Faker method expression (receiver first)
	args   []reflect.Value
	token  int // > 0: Token's length, generated without reflection
	call   bool
}

// compilePlaceholder parses s once; typed is set when s is a single call returning a number or bool.
func (ft *funcTypes) compilePlaceholder(s string) (*placeholder, error) {
	t, err := template.New("placeholder").Option("missingkey=error").Funcs(ft.parse).Parse(s)
	if err != nil {
		return nil, fmt.Errorf("placeholder %q: %s", s, cleanTemplateError(err))
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("placeholder %q: define and block are not supported", s)
	}
	if err := checkBounded(t.Tree.Root); err != nil {
		return nil, fmt.Errorf("placeholder %q: %w", s, err)
	}
	return &placeholder{tmpl: t, typed: ft.singleTypedCall(t), parts: directParts(t)}, nil
}

var fakerType = reflect.TypeFor[*gofakeit.Faker]()

// checkBounded refuses the template constructs whose cost is not bounded by the placeholder's
// length: loops, calls of other templates, and size functions given large or computed sizes.
func checkBounded(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkBounded(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		return errors.New("range is not supported (a body is JSON: write the list in YAML)")
	case *parse.TemplateNode:
		return errors.New("calling templates is not supported")
	case *parse.IfNode:
		return checkBranch(&n.BranchNode)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode)
	case *parse.ActionNode:
		return checkPipe(n.Pipe)
	}
	return nil
}

// errVariables: a variable lets a placeholder double its output at every step ({{ $x := printf "%s%s" $x $x }}).
var errVariables = errors.New("template variables are not supported")

func checkBranch(b *parse.BranchNode) error {
	if err := checkPipe(b.Pipe); err != nil {
		return err
	}
	if err := checkBounded(b.List); err != nil {
		return err
	}
	return checkBounded(b.ElseList)
}

func checkPipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	if len(p.Decl) > 0 {
		return errVariables
	}
	for _, cmd := range p.Cmds {
		if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && slices.Contains(sizeFuncs, id.Ident) {
			if err := checkSizeArgs(id.Ident, cmd.Args[1:]); err != nil {
				return err
			}
		}
		for _, a := range cmd.Args[1:] {
			if sub, ok := a.(*parse.PipeNode); ok {
				if err := checkPipe(sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkSizeArgs(fn string, args []parse.Node) error {
	product := 1.0
	for _, a := range args {
		switch a := a.(type) {
		case *parse.NumberNode:
			if !a.IsFloat || a.Float64 < 0 {
				return fmt.Errorf("%s size %s is not a non-negative number", fn, a.Text)
			}
			product *= max(a.Float64, 1)
		case *parse.BoolNode, *parse.StringNode:
		default:
			// A pipeline or variable could compute any size at request time.
			return fmt.Errorf("%s takes literal numbers only (got %s), so its size is known at load", fn, a)
		}
	}
	if fn == "Token" && product > maxTokenLen {
		return fmt.Errorf("token length is at most %d", maxTokenLen)
	}
	if product > maxPlaceholderSize {
		return fmt.Errorf("%s would produce more than %d units (its sizes multiply); use smaller sizes", fn, maxPlaceholderSize)
	}
	return nil
}

// directParts compiles the common shapes to direct calls; nil means "use the template engine".
func directParts(t *template.Template) []phPart {
	var parts []phPart
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts = append(parts, phPart{text: string(n.Text)})
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 {
				return nil
			}
			p, ok := directCommand(n.Pipe.Cmds[0])
			if !ok {
				return nil
			}
			parts = append(parts, p)
		default:
			return nil
		}
	}
	return parts
}

func directCommand(cmd *parse.CommandNode) (phPart, bool) {
	if f, ok := cmd.Args[0].(*parse.FieldNode); ok && len(cmd.Args) == 1 && len(f.Ident) == 1 {
		if _, exists := reflect.TypeFor[Vars]().FieldByName(f.Ident[0]); exists {
			return phPart{field: f.Ident[0]}, true
		}
		return phPart{}, false
	}
	ident, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok {
		return phPart{}, false
	}
	if ident.Ident == "Token" {
		if len(cmd.Args) != 2 {
			return phPart{}, false
		}
		num, ok := cmd.Args[1].(*parse.NumberNode)
		if !ok || !num.IsInt || num.Int64 < 1 || num.Int64 > maxTokenLen {
			return phPart{}, false
		}
		return phPart{token: int(num.Int64), call: true}, true
	}
	m, ok := fakerType.MethodByName(ident.Ident)
	if !ok || slices.Contains(excludedFuncs, ident.Ident) || m.Type.IsVariadic() || m.Type.NumOut() != 1 || m.Type.NumIn() != len(cmd.Args) {
		return phPart{}, false
	}
	args := make([]reflect.Value, 0, len(cmd.Args)-1)
	for i, a := range cmd.Args[1:] {
		v, ok := literal(a, m.Type.In(i+1))
		if !ok {
			return phPart{}, false
		}
		args = append(args, v)
	}
	return phPart{method: m.Func, args: args, call: true}, true
}

// literal converts a template literal to the parameter type, or reports that it cannot.
func literal(n parse.Node, typ reflect.Type) (reflect.Value, bool) {
	v := reflect.New(typ).Elem()
	switch n := n.(type) {
	case *parse.NumberNode:
		switch typ.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if !n.IsInt || v.OverflowInt(n.Int64) {
				return v, false
			}
			v.SetInt(n.Int64)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if !n.IsUint || v.OverflowUint(n.Uint64) {
				return v, false
			}
			v.SetUint(n.Uint64)
		case reflect.Float32, reflect.Float64:
			if !n.IsFloat {
				return v, false
			}
			v.SetFloat(n.Float64)
		default:
			return v, false
		}
	case *parse.BoolNode:
		if typ.Kind() != reflect.Bool {
			return v, false
		}
		v.SetBool(n.True)
	case *parse.StringNode:
		if typ.Kind() != reflect.String {
			return v, false
		}
		v.SetString(n.Text)
	default:
		return v, false
	}
	return v, true
}

// run renders the placeholder for one request, directly when it can.
func (f *faker) run(p *placeholder, v *Vars) ([]byte, error) {
	if p.parts == nil {
		return f.exec(p.tmpl, v)
	}
	f.out.Reset()
	for i := range p.parts {
		part := &p.parts[i]
		switch {
		case part.token > 0:
			f.out.Write(appendToken(f.out.AvailableBuffer(), f.src, part.token))
		case part.call:
			in := make([]reflect.Value, 0, 1+len(part.args))
			in = append(in, reflect.ValueOf(f.fake))
			in = append(in, part.args...)
			out := part.method.Call(in)[0]
			f.out.Write(appendValue(f.out.AvailableBuffer(), out))
		case part.field != "":
			f.out.Write(appendField(f.out.AvailableBuffer(), v, part.field))
		default:
			f.out.WriteString(part.text)
		}
	}
	return f.out.Bytes(), nil
}

// appendValue formats a call's result as text/template would print it.
func appendValue(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		return append(b, v.String()...)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10)
	case reflect.Float32:
		return strconv.AppendFloat(b, v.Float(), 'g', -1, 32)
	case reflect.Float64:
		return strconv.AppendFloat(b, v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	}
	return fmt.Append(b, v.Interface())
}

func appendField(b []byte, v *Vars, name string) []byte {
	switch name {
	case "Provider":
		return append(b, v.Provider...)
	case "RequestID":
		return append(b, v.RequestID...)
	case "Session":
		return append(b, v.Session...)
	case "Scenario":
		return append(b, v.Scenario...)
	case "Status":
		return strconv.AppendInt(b, int64(v.Status), 10)
	}
	return b
}

func (ft *funcTypes) singleTypedCall(t *template.Template) bool {
	root := t.Tree.Root
	if len(root.Nodes) != 1 {
		return false
	}
	action, ok := root.Nodes[0].(*parse.ActionNode)
	if !ok || len(action.Pipe.Decl) > 0 || len(action.Pipe.Cmds) == 0 {
		return false
	}
	last := action.Pipe.Cmds[len(action.Pipe.Cmds)-1]
	ident, ok := last.Args[0].(*parse.IdentifierNode)
	if !ok {
		return false
	}
	typ, ok := ft.types[ident.Ident]
	if !ok || typ.NumOut() == 0 {
		return false
	}
	switch typ.Out(0).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Bool:
		return true
	}
	return false
}

// cleanTemplateError drops text/template's "template: placeholder:1:" prefix: the file's line is ours to give.
func cleanTemplateError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
		rest := msg[i+2:]
		// rest is like "placeholder:1: function \"Nope\" not defined"
		if j := strings.Index(rest, ": "); j >= 0 && strings.HasPrefix(rest, "placeholder") {
			rest = rest[j+2:]
		}
		if j := strings.Index(rest, ": "); j >= 0 && strings.HasPrefix(rest, "executing") {
			rest = rest[j+2:]
		}
		return rest
	}
	return msg
}
