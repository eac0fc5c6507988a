package mock

import (
	"bytes"
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
var excludedFuncs = []string{"RandomMapKey", "SQL", "Template", "Struct", "Slice", "Seed"}

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
			return "", fmt.Errorf("Token length %d outside 1..%d", n, maxTokenLen)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = tokenAlphabet[r.Uint64()&63]
		}
		return string(b), nil
	}
	return fm
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

func newFaker() *faker {
	src := rand.NewPCG(rand.Uint64(), rand.Uint64())
	f := &faker{src: src, rnd: rand.New(src), fake: gofakeit.NewFaker(src, false)}
	f.funcs = funcMap(f.fake, f.rnd)
	f.clones = map[*template.Template]*template.Template{}
	return f
}

// seed restarts the generator, so equal seeds give equal data.
func (f *faker) seed(a, b uint64) { f.src.Seed(a, b) }

// exec runs a placeholder template with this faker's functions and returns its text; the slice
// is valid until the next exec.
func (f *faker) exec(t *template.Template, v *Vars) ([]byte, error) {
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
	if err := c.Execute(&f.out, v); err != nil {
		return nil, err
	}
	return f.out.Bytes(), nil
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

// placeholder is a compiled string value holding {{ ... }} actions.
type placeholder struct {
	tmpl  *template.Template
	typed bool // exactly one call whose function returns a number or a boolean
}

// compilePlaceholder parses s once; typed is set when s is a single call returning a number or bool.
func (ft *funcTypes) compilePlaceholder(s string) (*placeholder, error) {
	t, err := template.New("placeholder").Option("missingkey=error").Funcs(ft.parse).Parse(s)
	if err != nil {
		return nil, fmt.Errorf("placeholder %q: %s", s, cleanTemplateError(err))
	}
	return &placeholder{tmpl: t, typed: ft.singleTypedCall(t)}, nil
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
