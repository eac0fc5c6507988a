package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureDir is a directory of scenario files under the repository's testdata/scenarios.
func fixtureDir(name string) string {
	return filepath.Join("..", "testdata", "scenarios", name)
}

// loadErr builds a server from opts and returns the *LoadError it must fail with.
func loadErr(t *testing.T, opts Options) *LoadError {
	t.Helper()
	s, err := New(opts)
	if s != nil {
		s.Close()
	}
	require.Error(t, err)
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.NotEmpty(t, le.Problems)
	return le
}

// builtinCount is how many scenarios the embedded set holds.
const builtinCount = 12

func TestLoadRejectsBrokenFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir  string
		file string
		line int // 0: the problem concerns the whole file
		msg  string
	}{
		{"unknown-key", "typo.yaml", 7, `unknown key "statsu" (known: description, status,`},
		{"status-string", "quoted.yaml", 2, `status must be an integer HTTP status, got string "401"`},
		{"status-99", "low.yaml", 3, "status 99 is not a final HTTP status (200-599)"},
		{"status-700", "high.yaml", 2, "status 700 is not a final HTTP status"},
		{"delay-bad", "soon.yaml", 3, `invalid duration "soon"`},
		{"delay-range-bad", "range.yaml", 7, `invalid duration "later"`},
		{"delay-range-inverted", "inverted.yaml", 3, `delay range "2s..1s": upper bound is below lower bound`},
		{"delay-negative", "negative.yaml", 7, `duration "-5ms" is negative`},
		{"delay-over-max", "forever.yaml", 3, `duration "250m" exceeds the 10m0s maximum`},
		{"delay-range-over-max", "range.yaml", 3, `duration "11m" exceeds the 10m0s maximum`},
		// ReadDir sorts, so a.json is read first and a.yaml is the duplicate.
		{"duplicate-name", "a.yaml", 0, `duplicate scenario name "a": ` + filepath.Join(fixtureDir("duplicate-name"), "a.json") + " defines it too"},
		{"provider-twice", "second.yaml", 5, `provider "acme" is claimed by both "first" (` + filepath.Join(fixtureDir("provider-twice"), "first.yaml") + `) and "second"`},
		{"provider-builtin", "mine.yaml", 3, `provider "unlinked" is claimed by both "missing-linked-identity" (builtin) and "mine"`},
		{"template-unknown-func", "func.yaml", 6, `function "NoSuchFunc" not defined`},
		{"template-unknown-field", "field.yaml", 7, "can't evaluate field Nope"},
		{"template-syntax", "unclosed.yaml", 4, "unclosed action"},
		{"yaml-syntax", "broken.yaml", 5, "invalid YAML"},
		{"top-level-list", "list.yaml", 1, "a scenario file must be a mapping of keys"},
		{"top-level-scalar", "scalar.yaml", 1, "a scenario file must be a mapping of keys"},
		{"two-documents", "two.yaml", 7, "exactly one YAML or JSON document; a second one starts here"},
		{"empty-file", "empty.yaml", 0, "exactly one YAML or JSON document"},
		{"sequence-unknown-step", "seq.yaml", 2, `sequence step "no-such-step" is not a scenario (known: connection-reset, internal-error,`},
		{"sequence-of-sequence", "nested.yaml", 2, `sequence step "refresh-then-success" is itself a sequence`},
		{"sequence-with-status", "seq.yaml", 3, `a sequence takes its responses from its steps; "status" does not apply`},
		{"then-without-sequence", "then.yaml", 7, "then applies only to a sequence"},
		{"unknown-fault", "fault.yaml", 3, `unknown fault "explode" (known: connection-reset, empty-response, malformed-body, hang)`},
		{"reserved-header", "rid.yaml", 5, `header "Request-Id" is set by the mock itself`},
		{"mock-header", "xmock.yaml", 4, `header "X-Mock-Scenario" is set by the mock itself`},
		{"header-newline", "split.yaml", 4, `header "X-Note": value contains a line break or NUL`},
		{"contract-violation", "no-token.yaml", 4, "response does not match the OpenAPI contract for status 200: status 200: body.access_token: required property is missing (set \"contract: off\""},
		{"contract-wrong-type", "expires.yaml", 3, "body.expires_in: value must be an integer"},
		// The limit is crossed while expanding e's aliases (line 9), long before the ninth level.
		{"billion-laughs", "lol.yaml", 9, "body has more than 20000 values (aliases expanded); refusing to expand it"},
		{"deep-nesting", "deep.yaml", 70, "body is nested deeper than 64 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			dir := fixtureDir(tt.dir)
			le := loadErr(t, Options{Dir: dir})
			require.Len(t, le.Problems, 1, le.Error())
			p := le.Problems[0]
			assert.Equal(t, filepath.Join(dir, tt.file), p.File)
			assert.Equal(t, tt.line, p.Line, p.String())
			assert.Contains(t, p.Message, tt.msg)
			want := fmt.Sprintf("%s:%d: ", p.File, tt.line)
			if tt.line == 0 {
				want = p.File + ": "
			}
			assert.True(t, strings.HasPrefix(p.String(), want), "%q should start with %q", p.String(), want)
			assert.Equal(t, p.String(), le.Error())

			// validate DIR reports exactly what start-up does.
			var ve *LoadError
			require.ErrorAs(t, ValidateDir(dir), &ve)
			assert.Equal(t, le.Problems, ve.Problems)
		})
	}
}

func TestLoadCollectsEveryProblem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a-bad-status.yaml": "status: 700\n",
		"b-ok.yaml":         "status: 418\nbody: {}\n",
		"c-unknown-key.yml": "status: 200\ncontract: off\n\nextra: 1\n",
		"d-bad.json":        `{"status": 200, "contract": "maybe"}`,
	})
	le := loadErr(t, Options{Dir: dir})
	got := make([]string, len(le.Problems))
	for i, p := range le.Problems {
		got[i] = fmt.Sprintf("%s:%d", filepath.Base(p.File), p.Line)
	}
	assert.Equal(t, []string{"a-bad-status.yaml:1", "c-unknown-key.yml:4", "d-bad.json:1"}, got, le.Error())
	assert.Contains(t, le.Problems[2].Message, `contract must be on or off, got "maybe"`)
}

func TestLoadGeneratedHostileFiles(t *testing.T) {
	t.Parallel()
	var flatKeys strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&flatKeys, "  k%d: v\n", i)
	}
	tests := []struct {
		name    string
		content string
		line    int
		msg     string
	}{
		// Each of these took the YAML parser from tens of seconds to minutes before the preflight.
		{"flow-nesting", "status: 200\ncontract: off\nbody: " + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "\n", 3, "nested deeper than 128 levels"},
		{"flow-map-nesting", "status: 200\ncontract: off\nbody: " + strings.Repeat("{a: ", 1000) + "1" + strings.Repeat("}", 1000) + "\n", 3, "nested deeper than 128 levels"},
		{"dash-nesting", "status: 200\ncontract: off\nbody:\n  " + strings.Repeat("- ", 1000) + "1\n", 4, "nested too deeply (an indicator at column 513, the limit is 512)"},
		{"huge-flow-nesting", "status: 200\ncontract: off\nbody: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", 3, "file has more than 10000 YAML tokens"},
		{"flat-mapping", "status: 200\ncontract: off\nbody:\n" + flatKeys.String(), 3334, "file has more than 10000 YAML tokens"},
		{"oversized", "status: 200\ndescription: " + strings.Repeat("x", maxScenarioFileSize) + "\n", 0, "file is larger than the 1024 KiB limit"},
		// Anchors and aliases are for bodies; elsewhere they are a clear error.
		{"anchor-in-description", "status: 200\ndescription: &d hello\n", 2, "expected a string, got anchor"},
		{"alias-in-header", "status: 200\ncontract: off\nbody: {a: &d hello}\nheaders:\n  X-Note: *d\n", 5, "expected a string, got alias"},
		{"merge-key", "status: 200\ncontract: off\nbase: &b {a: 1}\n", 3, `unknown key "base"`},
		{"merge-in-body", "status: 200\ncontract: off\nbody:\n  x: &b {a: 1}\n  y:\n    <<: *b\n", 6, "merge keys (<<) are not supported in a body"},
		{"infinity", "status: 200\ncontract: off\nbody:\n  x: .inf\n", 4, "cannot be written as JSON"},
		{"status-float", "status: 200.5\n", 1, "status must be an integer HTTP status"},
		{"status-list", "status: [200]\n", 1, "status must be an integer HTTP status"},
		{"missing-status", "description: no status\n", 1, `missing key "status"`},
		{"providers-not-list", "status: 404\nproviders: acme\n", 2, "providers must be a list of names, got string"},
		{"provider-listed-twice", "status: 404\nproviders:\n  - a\n  - a\n", 4, `providers: "a" listed twice`},
		{"empty-provider", "status: 404\nproviders: [\"\"]\n", 2, "providers: empty name"},
		{"headers-not-mapping", "status: 200\nheaders: [a]\n", 2, "headers must be a mapping"},
		{"bad-header-name", "status: 200\nheaders:\n  \"Bad Name\": x\n", 3, `"Bad Name" is not a valid header name`},
		{"header-nul", "status: 200\nheaders:\n  X-A: \"a\\0b\"\n", 3, "value contains a line break or NUL"},
		{"content-length", "status: 200\nheaders:\n  content-length: \"5\"\n", 3, `header "Content-Length" is set by the mock itself`},
		{"duplicate-key", "status: 200\nstatus: 201\n", 2, `mapping key "status" already defined at [1:1]`},
		{"duplicate-body-key", "status: 200\ncontract: off\nbody:\n  a: 1\n  a: 2\n", 5, `mapping key "a" already defined at [4:3]`},
		{"fault-with-contract", "fault: hang\ncontract: on\n", 2, "a fault scenario cannot conform to the contract"},
		{"unknown-then", "sequence: [success]\nthen: forever\n", 2, `unknown then "forever" (known: repeat-last, cycle, fail)`},
		{"empty-sequence", "sequence: []\n", 1, "sequence needs at least one step"},
		{"sequence-with-body", "sequence: [success]\nbody: {}\n", 2, `"body" does not apply`},
		{"placeholder-runtime-error", "status: 200\ncontract: off\nbody:\n  t: \"{{ Token 0 }}\"\n", 4, "token length 0 outside 1..4096"},
		{"description-not-string", "status: 200\ncontract: off\ndescription: {a: 1}\n", 3, "expected a string, got a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"hostile.yaml": tt.content})
			le := loadErr(t, Options{Dir: dir})
			require.Len(t, le.Problems, 1, le.Error())
			p := le.Problems[0]
			assert.Equal(t, filepath.Join(dir, "hostile.yaml"), p.File)
			assert.Equal(t, tt.line, p.Line, truncate(p.String(), 300))
			assert.Contains(t, p.Message, tt.msg)
		})
	}
}

func TestLoadSymlinks(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	valid := "status: 418\ndescription: a teapot\nbody: {}\n"
	writeFiles(t, outside, map[string]string{"secret.yaml": valid})
	writeFiles(t, dir, map[string]string{"inner.yaml": valid})
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "escape.yaml")))
	require.NoError(t, os.Symlink(filepath.Join("..", filepath.Base(outside), "secret.yaml"), filepath.Join(dir, "relative.yaml")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "dir.yaml")))
	require.NoError(t, os.Symlink("inner.yaml", filepath.Join(dir, "alias.yaml")))

	le := loadErr(t, Options{Dir: dir})
	byFile := map[string]string{}
	for _, p := range le.Problems {
		byFile[filepath.Base(p.File)] = p.Message
	}
	assert.Equal(t, map[string]string{
		"dir.yaml":      "cannot open: path escapes from parent",
		"escape.yaml":   "cannot open: path escapes from parent",
		"relative.yaml": "cannot open: path escapes from parent",
	}, byFile, le.Error())

	// Without the escaping links, a link inside the directory is an ordinary file.
	for _, name := range []string{"escape.yaml", "relative.yaml", "dir.yaml"} {
		require.NoError(t, os.Remove(filepath.Join(dir, name)))
	}
	s := newTestServer(t, Options{Dir: dir})
	w := postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: alias")
	assert.Equal(t, http.StatusTeapot, w.Code)
}

func TestLoadSkipsWhatIsNotAScenario(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		".hidden.yaml": "not: [valid",
		"notes.txt":    "not: [valid",
		"README.md":    "# scenarios",
		"teapot.yml":   "status: 418\nbody: {}\n",
	})
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755))
	s := newTestServer(t, Options{Dir: dir})
	names := scenarioNames(s)
	assert.Len(t, names, builtinCount+1)
	assert.Contains(t, names, "teapot")
	assert.NotContains(t, names, ".hidden")
	assert.NotContains(t, names, "sub")
}

func TestLoadDirectoryProblems(t *testing.T) {
	t.Parallel()
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "nope")
		le := loadErr(t, Options{Dir: dir})
		assert.Equal(t, []Problem{{File: dir, Message: "no such file or directory"}}, le.Problems)
	})
	t.Run("bad file names", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"has space.yaml": "status: 418\n", strings.Repeat("n", 101) + ".yaml": "status: 418\n"})
		le := loadErr(t, Options{Dir: dir})
		require.Len(t, le.Problems, 2, le.Error())
		for _, p := range le.Problems {
			assert.Contains(t, p.Message, "is not a valid scenario name")
		}
	})
	t.Run("too many files", func(t *testing.T) {
		t.Parallel()
		files := fstest.MapFS{}
		for i := range maxScenarioFiles + 1 {
			files[fmt.Sprintf("f%05d.txt", i)] = &fstest.MapFile{}
		}
		le := loadErr(t, Options{Files: files})
		assert.Equal(t, []Problem{{File: "files", Message: "10001 files exceed the limit of 10000"}}, le.Problems)
	})
	t.Run("no success or unauthorized", func(t *testing.T) {
		t.Parallel()
		le := loadErr(t, Options{Builtin: fstest.MapFS{"teapot.yaml": {Data: []byte("status: 418\n")}}})
		assert.Equal(t, []Problem{
			{File: "scenarios", Message: `the scenario set has no "success" scenario, which the mock needs`},
			{File: "scenarios", Message: `the scenario set has no "unauthorized" scenario, which the mock needs`},
		}, le.Problems)
	})
	t.Run("unauthorized as a sequence", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"unauthorized.yaml": "sequence: [success]\n"})
		le := loadErr(t, Options{Dir: dir})
		assert.Equal(t, []Problem{
			// The built-in refresh-then-success steps through unauthorized, now a sequence.
			{File: "builtin/refresh-then-success.yaml", Line: 2, Message: `sequence step "unauthorized" is itself a sequence; steps must be plain scenarios`},
			{File: filepath.Join(dir, "unauthorized.yaml"), Message: "the unauthorized scenario answers the auth gate and cannot be a sequence"},
		}, le.Problems)
	})
}

func TestLoadValidFixtures(t *testing.T) {
	t.Parallel()
	t.Run("a file with a built-in's name replaces it", func(t *testing.T) {
		t.Parallel()
		dir := fixtureDir("valid-replace")
		s := newTestServer(t, Options{Dir: dir})
		assert.Len(t, s.Scenarios(), builtinCount)
		info := scenarioInfo(t, s, "success")
		assert.Equal(t, filepath.Join(dir, "success.yaml"), info.Source)
		assert.Equal(t, "The team's own success, with a fixed token.", info.Description)
		assert.True(t, info.Contract)
		assert.Equal(t, "builtin", scenarioInfo(t, s, "not-found").Source)

		w := postToken(t, s.Handler(), "mobypay")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "success", w.Header().Get("X-Mock-Scenario"))
		assert.JSONEq(t, `{"access_token": "team-fixed-token", "token_type": "Bearer", "expires_in": 60}`, w.Body.String())

		// The auth gate answers with the replaced unauthorized too.
		w = perform(t, s.Handler(), http.MethodPost, tokenURL("mobypay"), "")
		require.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, "auth", w.Header().Get("X-Mock-Selected-By"))
		assert.Contains(t, w.Body.String(), "team-specific")
	})
	t.Run("other files add to the set", func(t *testing.T) {
		t.Parallel()
		dir := fixtureDir("valid-add")
		s := newTestServer(t, Options{Dir: dir})
		names := scenarioNames(s)
		require.Len(t, names, builtinCount+1)
		assert.Equal(t, "rate-limited", names[builtinCount], "user scenarios come after the built-ins")
		info := scenarioInfo(t, s, "rate-limited")
		assert.False(t, info.Contract, "429 is not in the OpenAPI document")
		assert.Equal(t, []string{"busy"}, info.Providers)

		w := postToken(t, s.Handler(), "busy")
		require.Equal(t, http.StatusTooManyRequests, w.Code)
		assert.Equal(t, "provider", w.Header().Get("X-Mock-Selected-By"))
		assert.Equal(t, "7", w.Header().Get("Retry-After"))
		assert.Equal(t, mediaJSONAPI, w.Header().Get("Content-Type"))
		doc := decodeErrors(t, w.Body.Bytes())
		assert.Equal(t, "slow down, busy", doc[0]["detail"])
		assert.Equal(t, "429", doc[0]["status"])
	})
	t.Run("a JSON scenario file", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{Dir: fixtureDir("valid-json")})
		info := scenarioInfo(t, s, "json-token")
		assert.True(t, info.Contract)
		w := postToken(t, s.Handler(), "jsonco")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "json-token", w.Header().Get("X-Mock-Scenario"))
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			ExpiresIn    any    `json:"expires_in"`
			Scope        string `json:"scope"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tok))
		assert.Regexp(t, `^[A-Za-z0-9_-]{40}$`, tok.AccessToken)
		assert.Regexp(t, `^[A-Za-z0-9_-]{40}$`, tok.RefreshToken)
		require.IsType(t, float64(0), tok.ExpiresIn, "a typed placeholder is a JSON number")
		assert.InDelta(t, 1950, tok.ExpiresIn, 1650)
		assert.Equal(t, "openid jsonco", tok.Scope)
	})
	t.Run("contract off accepts a body the contract refuses", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{Dir: fixtureDir("contract-off")})
		assert.False(t, scenarioInfo(t, s, "no-token").Contract)
		w := postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: no-token")
		require.Equal(t, http.StatusOK, w.Code)
		assert.JSONEq(t, `{"token_type": "Bearer", "expires_in": 3600}`, w.Body.String())
	})
	t.Run("Dir layers over Files, Files over the built-ins", func(t *testing.T) {
		t.Parallel()
		files := fstest.MapFS{
			"teapot.yaml":       {Data: []byte("description: from files\nstatus: 418\nbody: {}\n")},
			"rate-limited.yaml": {Data: []byte("description: from files\nstatus: 429\nbody: {}\n")},
		}
		s := newTestServer(t, Options{Files: files, Dir: fixtureDir("valid-add")})
		assert.Equal(t, "from files", scenarioInfo(t, s, "teapot").Description)
		assert.Equal(t, filepath.Join("files", "teapot.yaml"), scenarioInfo(t, s, "teapot").Source)
		assert.Equal(t, "429 from the gateway (off-contract).", scenarioInfo(t, s, "rate-limited").Description)
	})
}

// writeFiles creates each named file in dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

// scenarioNames lists the loaded scenarios in their order.
func scenarioNames(s *Server) []string {
	var names []string
	for _, sc := range s.Scenarios() {
		names = append(names, sc.Name)
	}
	return names
}

// scenarioInfo finds one loaded scenario's description.
func scenarioInfo(t *testing.T, s *Server, name string) ScenarioInfo {
	t.Helper()
	for _, sc := range s.Scenarios() {
		if sc.Name == name {
			return sc
		}
	}
	require.FailNow(t, "no scenario "+name)
	return ScenarioInfo{}
}

// decodeErrors parses a JSON:API error document (nothing but "errors") and returns its error objects.
func decodeErrors(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var doc struct {
		Errors []map[string]any `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&doc), string(body))
	require.NotEmpty(t, doc.Errors)
	return doc.Errors
}
