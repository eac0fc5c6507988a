package mock

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net/http"
	"net/textproto"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits on scenario sources, so a stray directory cannot stall start-up or exhaust memory.
const (
	maxScenarioFileSize = 1 << 20
	maxScenarioFiles    = 10000
)

var scenarioName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// contractChecker validates a rendered sample response against the endpoint's OpenAPI document.
type contractChecker interface {
	Defines(status int) bool
	Check(status int, contentType string, body []byte) error
}

// source is one layer of scenario files.
type source struct {
	fsys    fs.FS
	label   string // shown before file names: "" for built-ins, the directory otherwise
	builtin bool
}

// loader compiles scenario files into a scenarioSet, collecting every problem rather than stopping at the first.
type loader struct {
	ft       *funcTypes
	contract contractChecker
	problems []Problem
	sampler  *faker // renders each file's sample response
}

// lineError is an error that knows the line of the file it came from.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

func lineErr(line int, format string, args ...any) error {
	return &lineError{line: line, msg: fmt.Sprintf(format, args...)}
}

func nodeLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

// scalarText is the text of a scalar node, unquoted.
func scalarText(n ast.Node) string {
	switch v := n.(type) {
	case nil:
		return ""
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		return v.Value.Value
	case *ast.TagNode:
		return scalarText(v.Value)
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return n.String()
}

func (l *loader) problem(file string, err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			l.problem(file, e)
		}
		return
	}
	line := 0
	var le *lineError
	if errors.As(err, &le) {
		line = le.line
	}
	msg := err.Error()
	if le != nil {
		msg = le.msg
	}
	l.problems = append(l.problems, Problem{File: file, Line: line, Message: msg})
}

// load reads every source in order (a later file replaces an earlier one of the same name) and links the set.
func (l *loader) load(sources []source) (*scenarioSet, error) {
	byName := map[string]*scenario{}
	for _, src := range sources {
		l.loadSource(src, byName)
	}
	list := make([]*scenario, 0, len(byName))
	for _, sc := range byName {
		list = append(list, sc)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	l.link(list, byName)
	if len(l.problems) > 0 {
		return nil, &LoadError{Problems: l.problems}
	}
	return newScenarioSet(list), nil
}

func (l *loader) loadSource(src source, byName map[string]*scenario) {
	entries, err := fs.ReadDir(src.fsys, ".")
	if err != nil {
		l.problem(displayName(src, "."), fmt.Errorf("cannot read scenario directory: %w", unwrapPathError(err)))
		return
	}
	if len(entries) > maxScenarioFiles {
		l.problem(displayName(src, "."), fmt.Errorf("%d files exceed the limit of %d", len(entries), maxScenarioFiles))
		return
	}
	inSource := map[string]string{}
	for _, e := range entries {
		fname := e.Name()
		ext := path.Ext(fname)
		if strings.HasPrefix(fname, ".") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		display := displayName(src, fname)
		if e.Type()&fs.ModeSymlink == 0 && e.IsDir() {
			continue
		}
		name := strings.TrimSuffix(fname, ext)
		if !scenarioName.MatchString(name) {
			l.problem(display, fmt.Errorf("%q is not a valid scenario name (letters, digits, '.', '_', '-'; at most 100)", name))
			continue
		}
		if other, dup := inSource[name]; dup {
			l.problem(display, fmt.Errorf("duplicate scenario name %q: %s defines it too", name, other))
			continue
		}
		inSource[name] = display
		data, err := readLimited(src.fsys, fname)
		if err != nil {
			l.problem(display, err)
			continue
		}
		sc, err := l.parse(data, name)
		if err != nil {
			l.problem(display, err)
			continue
		}
		sc.source, sc.file, sc.builtin = display, display, src.builtin
		if src.builtin {
			sc.source, sc.file = "builtin", "builtin/"+fname
		}
		byName[name] = sc
	}
}

func displayName(src source, fname string) string {
	if src.label == "" {
		return fname
	}
	if fname == "." {
		return src.label
	}
	return path.Join(src.label, fname)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// digestSource hashes the names, sizes and contents of a source's scenario files.
func digestSource(src source) uint64 {
	h := fnv.New64a()
	entries, err := fs.ReadDir(src.fsys, ".")
	if err != nil {
		_, _ = io.WriteString(h, err.Error())
		return h.Sum64()
	}
	for _, e := range entries {
		_, _ = io.WriteString(h, e.Name())
		_, _ = h.Write([]byte{0})
		if data, err := readLimited(src.fsys, e.Name()); err == nil {
			_, _ = h.Write(data)
		} else {
			_, _ = io.WriteString(h, err.Error())
		}
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// readLimited reads one file, refusing anything that is not a regular file or is too large.
func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open: %w", unwrapPathError(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat: %w", unwrapPathError(err))
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxScenarioFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPathError(err))
	}
	if len(data) > maxScenarioFileSize {
		return nil, fmt.Errorf("file is larger than the %d KiB limit", maxScenarioFileSize>>10)
	}
	return data, nil
}

// parse decodes one file strictly: every key known, every value checked, placeholders compiled.
func (l *loader) parse(data []byte, name string) (sc *scenario, err error) {
	defer func() {
		// The YAML parser is third-party code fed user input; a panic there must be a load error, not a crash.
		if r := recover(); r != nil {
			sc, err = nil, fmt.Errorf("cannot parse file: %v", r)
		}
	}()
	tokens := lexer.Tokenize(string(data))
	if err := preflight(tokens); err != nil {
		return nil, err
	}
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, yamlError(err)
	}
	if len(file.Docs) > 1 {
		line := nodeLine(file.Docs[1].Body)
		if start := file.Docs[1].Start; start != nil && start.Position != nil {
			line = start.Position.Line
		}
		return nil, lineErr(line, "a scenario file holds exactly one YAML or JSON document; a second one starts here")
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return nil, errors.New("a scenario file holds exactly one YAML or JSON document")
	}
	root := file.Docs[0].Body
	var values []*ast.MappingValueNode
	switch m := root.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		return nil, lineErr(nodeLine(root), "a scenario file must be a mapping of keys (status, body, ...), not %s", root.Type())
	}
	sc = &scenario{name: name}
	fields := map[string]ast.Node{}
	keyLines := map[string]int{}
	// Key problems are collected, not returned at once, so one run reports a typo and a bad value together.
	var errs []error
	for _, mv := range values {
		key := scalarText(mv.Key)
		line := nodeLine(mv.Key)
		if _, dup := fields[key]; dup {
			errs = append(errs, lineErr(line, "duplicate key %q", key))
			continue
		}
		if !slices.Contains(fileKeys, key) {
			errs = append(errs, lineErr(line, "unknown key %q (known: %s)", key, strings.Join(fileKeys, ", ")))
			continue
		}
		fields[key] = mv.Value
		keyLines[key] = line
	}
	if err := l.decodeFields(sc, fields, keyLines); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sc, nil
}

// Limits checked on the token stream before parsing: goccy/go-yaml's parser takes time quadratic
// in nesting depth and in the number of keys of one block mapping, so a 1 MiB file of either would
// stall a load for minutes. Scenario files are tiny; these bounds keep the worst parse well under a second.
const (
	maxFileTokens  = 10000
	maxFlowDepth   = 2 * maxBodyDepth
	maxBlockColumn = 8 * maxBodyDepth // block nesting gains at most one level per column
)

// preflight refuses token streams the parser would take too long on; the lexer itself is linear.
func preflight(tokens token.Tokens) error {
	line := func(tk *token.Token) int {
		if tk.Position == nil {
			return 0
		}
		return tk.Position.Line
	}
	if len(tokens) > maxFileTokens {
		return lineErr(line(tokens[maxFileTokens]), "file has more than %d YAML tokens; a scenario file is far smaller", maxFileTokens)
	}
	depth := 0
	for _, tk := range tokens {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			if depth++; depth > maxFlowDepth {
				return lineErr(line(tk), "nested deeper than %d levels", maxFlowDepth)
			}
		case token.SequenceEndType, token.MappingEndType:
			if depth > 0 {
				depth--
			}
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType:
			if depth == 0 && tk.Position != nil && tk.Position.Column > maxBlockColumn {
				return lineErr(line(tk), "nested too deeply (an indicator at column %d, the limit is %d)", tk.Position.Column, maxBlockColumn)
			}
		}
	}
	return nil
}

var fileKeys = []string{"description", "status", "headers", "providers", "delay", "fault", "contract", "body", "sequence", "then"}

func yamlError(err error) error {
	msg, line := err.Error(), 0
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
	}
	return lineErr(line, "invalid YAML: %s", msg)
}

func (l *loader) decodeFields(sc *scenario, f map[string]ast.Node, lines map[string]int) error {
	var err error
	if n, ok := f["description"]; ok {
		if sc.description, err = stringValue(n); err != nil {
			return err
		}
	}
	if n, ok := f["sequence"]; ok {
		return l.decodeSequence(sc, f, n, lines)
	}
	if _, ok := f["then"]; ok {
		return lineErr(lines["then"], "then applies only to a sequence")
	}
	if n, ok := f["fault"]; ok {
		if sc.fault, err = stringValue(n); err != nil {
			return err
		}
		if !slices.Contains(faults, sc.fault) {
			return lineErr(nodeLine(n), "unknown fault %q (known: %s)", sc.fault, strings.Join(faults, ", "))
		}
	}
	sc.status = http.StatusOK
	if n, ok := f["status"]; ok {
		if sc.status, err = statusValue(n); err != nil {
			return err
		}
	} else if sc.fault == "" || sc.fault == faultMalformedBody {
		return lineErr(1, "missing key \"status\"")
	} else {
		sc.status = 0 // a fault that sends no response has no status
	}
	if err := decodeProvidersAndDelay(sc, f); err != nil {
		return err
	}
	contractOn := sc.fault == ""
	if n, ok := f["contract"]; ok {
		if contractOn, err = onOff(n); err != nil {
			return err
		}
		if contractOn && sc.fault != "" {
			return lineErr(nodeLine(n), "a fault scenario cannot conform to the contract; drop \"contract\"")
		}
	}
	if sc.header, err = headerValue(f["headers"], sc.status); err != nil {
		return err
	}
	if n, ok := f["body"]; ok {
		c := &bodyCompiler{ft: l.ft, anchors: map[string]ast.Node{}}
		root, err := c.compile(n, 0)
		if err != nil {
			return err
		}
		if tb, ok := textBody(root); ok && !isJSONMedia(sc.header.Get("Content-Type")) {
			sc.body = tb
		} else {
			if sc.status >= 400 {
				asErrorDocument(root, sc.status)
			}
			sc.body = flatten(root)
		}
	}
	return l.checkSample(sc, contractOn, lines)
}

func (l *loader) decodeSequence(sc *scenario, f map[string]ast.Node, n ast.Node, lines map[string]int) error {
	for _, k := range []string{"status", "headers", "body", "fault", "contract"} {
		if _, ok := f[k]; ok {
			return lineErr(lines[k], "a sequence takes its responses from its steps; %q does not apply", k)
		}
	}
	steps, err := stringList(n, "sequence")
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		return lineErr(nodeLine(n), "sequence needs at least one step")
	}
	sc.sequence = steps
	sc.stepLines = itemLines(n)
	sc.then = thenRepeatLast
	if t, ok := f["then"]; ok {
		if sc.then, err = stringValue(t); err != nil {
			return err
		}
		if !slices.Contains(thens, sc.then) {
			return lineErr(nodeLine(t), "unknown then %q (known: %s)", sc.then, strings.Join(thens, ", "))
		}
	}
	return decodeProvidersAndDelay(sc, f)
}

// decodeProvidersAndDelay reads the two keys a plain scenario and a sequence share.
func decodeProvidersAndDelay(sc *scenario, f map[string]ast.Node) error {
	var err error
	if n, ok := f["providers"]; ok {
		if sc.providers, err = stringList(n, "providers"); err != nil {
			return err
		}
		sc.providerLines = itemLines(n)
	}
	if n, ok := f["delay"]; ok {
		s, err := stringValue(n)
		if err != nil {
			return err
		}
		if sc.delay, err = parseDelay(s); err != nil {
			return lineErr(nodeLine(n), "%s", err.Error())
		}
	}
	return nil
}

// checkSample renders the scenario once, so template field errors and contract violations fail at load.
func (l *loader) checkSample(sc *scenario, contractOn bool, lines map[string]int) error {
	var sample []byte
	if sc.body != nil {
		if l.sampler == nil {
			l.sampler = newFaker() // one per load: binding its template functions reflects over all of gofakeit
		}
		f := l.sampler
		f.seed(1, 2)
		var err error
		sample, err = sc.body.render(nil, f, &Vars{Provider: "mobypay", RequestID: "cbgmhslmp1o9or9kh1p0", Scenario: sc.name, Status: sc.status})
		if err != nil {
			return err
		}
	}
	if l.contract == nil || !contractOn || !l.contract.Defines(sc.status) {
		return nil
	}
	if err := l.contract.Check(sc.status, sc.header.Get("Content-Type"), sample); err != nil {
		line := lines["body"]
		if line == 0 {
			line = lines["status"]
		}
		return lineErr(line, "response does not match the OpenAPI contract for status %d: %s (set \"contract: off\" if that is deliberate)", sc.status, err)
	}
	sc.contract = true
	return nil
}

// link resolves sequence steps and checks that providers are claimed once, with lines pointing at the claim.
func (l *loader) link(list []*scenario, byName map[string]*scenario) {
	claimed := map[string]*scenario{}
	for _, sc := range list {
		for _, p := range sc.providers {
			if other, ok := claimed[p]; ok {
				// Blame the user's file: a built-in cannot be edited.
				blame, first := sc, other
				if blame.builtin && !first.builtin {
					blame, first = first, blame
				}
				l.problems = append(l.problems, Problem{File: blame.file, Line: lineAt(blame.providerLines, slices.Index(blame.providers, p)),
					Message: fmt.Sprintf("provider %q is claimed by both %q (%s) and %q", p, first.name, first.source, blame.name)})
				continue
			}
			claimed[p] = sc
		}
		for i, step := range sc.sequence {
			target, ok := byName[step]
			switch {
			case !ok:
				l.problems = append(l.problems, Problem{File: sc.file, Line: lineAt(sc.stepLines, i), Message: fmt.Sprintf("sequence step %q is not a scenario (known: %s)", step, strings.Join(sortedNames(byName), ", "))})
			case target.sequence != nil:
				l.problems = append(l.problems, Problem{File: sc.file, Line: lineAt(sc.stepLines, i), Message: fmt.Sprintf("sequence step %q is itself a sequence; steps must be plain scenarios", step)})
			default:
				sc.steps = append(sc.steps, target)
			}
		}
		if sc.sequence != nil {
			// A sequence conforms when every step it can answer with does.
			sc.contract = len(sc.steps) == len(sc.sequence)
			for _, st := range sc.steps {
				sc.contract = sc.contract && st.contract
			}
		}
	}
	for _, required := range []string{defaultScenario, unauthorizedScenario} {
		if sc, ok := byName[required]; !ok {
			l.problems = append(l.problems, Problem{File: "scenarios", Message: fmt.Sprintf("the scenario set has no %q scenario, which the mock needs", required)})
		} else if sc.sequence != nil && required == unauthorizedScenario {
			l.problems = append(l.problems, Problem{File: sc.file, Message: "the unauthorized scenario answers the auth gate and cannot be a sequence"})
		}
	}
}

// itemLines is the line of each item of a list node, for problems found after decoding.
func itemLines(n ast.Node) []int {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil
	}
	lines := make([]int, len(seq.Values))
	for i, item := range seq.Values {
		lines[i] = nodeLine(item)
	}
	return lines
}

func lineAt(lines []int, i int) int {
	if i < 0 || i >= len(lines) {
		return 0
	}
	return lines[i]
}

func sortedNames(m map[string]*scenario) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func stringValue(n ast.Node) (string, error) {
	switch v := n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return scalarText(v), nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return scalarText(v), nil
	case *ast.TagNode:
		return stringValue(v.Value)
	}
	return "", lineErr(nodeLine(n), "expected a string, got %s", nodeKind(n))
}

func nodeKind(n ast.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "null"
	}
	return strings.ToLower(n.Type().String())
}

func statusValue(n ast.Node) (int, error) {
	iv, ok := n.(*ast.IntegerNode)
	if !ok {
		return 0, lineErr(nodeLine(n), "status must be an integer HTTP status, got %s %q", nodeKind(n), scalarText(n))
	}
	st, err := strconv.Atoi(fmt.Sprint(iv.Value))
	if err != nil || st < 200 || st > 599 {
		return 0, lineErr(nodeLine(n), "status %v is not a final HTTP status (200-599)", iv.Value)
	}
	return st, nil
}

func stringList(n ast.Node, what string) ([]string, error) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, lineErr(nodeLine(n), "%s must be a list of names, got %s", what, nodeKind(n))
	}
	out := make([]string, 0, len(seq.Values))
	for _, item := range seq.Values {
		s, err := stringValue(item)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, lineErr(nodeLine(item), "%s: empty name", what)
		}
		if slices.Contains(out, s) {
			return nil, lineErr(nodeLine(item), "%s: %q listed twice", what, s)
		}
		out = append(out, s)
	}
	return out, nil
}

func onOff(n ast.Node) (bool, error) {
	if b, ok := n.(*ast.BoolNode); ok {
		return b.Value, nil
	}
	switch strings.ToLower(scalarText(n)) {
	case "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, lineErr(nodeLine(n), "contract must be on or off, got %q", scalarText(n))
}

// reservedHeaders are set by the mock itself; a file setting them would break fidelity.
var reservedHeaders = []string{"Content-Length", "Request-Id", "Transfer-Encoding", "Connection"}

func headerValue(n ast.Node, status int) (http.Header, error) {
	h := http.Header{}
	if status >= 200 && status < 300 {
		h.Set("Content-Type", mediaJSON)
	} else {
		h.Set("Content-Type", mediaJSONAPI)
	}
	if n == nil {
		return h, nil
	}
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		return nil, lineErr(nodeLine(n), "headers must be a mapping of name: value, got %s", nodeKind(n))
	}
	for _, mv := range values {
		name := scalarText(mv.Key)
		line := nodeLine(mv.Key)
		if !validHeaderName(name) {
			return nil, lineErr(line, "%q is not a valid header name", name)
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if slices.Contains(reservedHeaders, canon) || strings.HasPrefix(canon, "X-Mock-") {
			return nil, lineErr(line, "header %q is set by the mock itself", canon)
		}
		val, err := stringValue(mv.Value)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			return nil, lineErr(nodeLine(mv.Value), "header %q: value contains a line break or NUL", canon)
		}
		h[canon] = []string{val}
	}
	return h, nil
}

// isJSONMedia reports whether a Content-Type is JSON (application/json, application/*+json).
func isJSONMedia(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
			c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~' ||
			('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return true
}

// dirSource opens dir so that no file, symlink included, can resolve outside it; close releases it.
func dirSource(dir string) (src source, closeFn func(), err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return source{}, nil, fmt.Errorf("scenario directory %s: %w", dir, unwrapPathError(err))
	}
	return source{fsys: root.FS(), label: dir}, func() { _ = root.Close() }, nil
}
