package mock

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stdJSONString is how encoding/json writes s, without the HTML escaping bodies do not use.
func stdJSONString(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(s))
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	var allControls strings.Builder
	for c := range 0x20 {
		allControls.WriteByte(byte(c))
	}
	tests := []struct {
		name string
		in   string
		want string // the exact bytes; encoding/json must agree
	}{
		{"empty", "", `""`},
		{"plain", "openid profile", `"openid profile"`},
		{"quotes and backslash", `say "hi" \ bye`, `"say \"hi\" \\ bye"`},
		{"short escapes", "a\nb\rc\td\be\ff", `"a\nb\rc\td\be\ff"`},
		{"other controls", "\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"all controls", allControls.String(), ""},
		{"html stays", "<a href='x'>&</a>", `"<a href='x'>&</a>"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"unicode", "héllo 世界 🎉", `"héllo 世界 🎉"`},
		{"invalid utf-8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
		{"truncated rune", "\xe4\xb8", `"\ufffd\ufffd"`},
		{"surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"replacement char itself", "\uFFFD", "\"\uFFFD\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := string(appendJSONString(nil, tt.in))
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, stdJSONString(t, tt.in), got)
			var back string
			require.NoError(t, json.Unmarshal([]byte(got), &back))
			assert.Equal(t, string([]rune(tt.in)), back, "each invalid byte decodes as U+FFFD")
		})
	}
	t.Run("appends to dst", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, `x:"a\"b"`, string(appendJSONString([]byte("x:"), `a"b`)))
	})
}

func TestAppendJSONStringRandomBytes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	alphabet := []string{"a", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "\xff", "\xc3", "é", "\u2028", "🎉", "<", "\b"}
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		in := b.String()
		require.Equal(t, stdJSONString(t, in), string(appendJSONString(nil, in)), "input %q", in)
	}
}

func TestIsJSONScalar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"true", true},
		{"false", true},
		{"0", true},
		{"-0", true},
		{"3600", true},
		{"-17", true},
		{"1.5", true},
		{"1e10", true},
		{"-2.5E-3", true},
		{"18446744073709551615", true},
		{"", false},
		{"True", false},
		{"null", false},
		{"+1", false},
		{"0x10", false},
		{"1_000", false},
		{".5", false},
		{"5.", false},
		{"01", false},
		{" 1", false},
		{"1 ", false},
		{"NaN", false},
		{"Inf", false},
		{"-Inf", false},
		{"1e400", false},
		{"\"1\"", false},
		{"abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, isJSONScalar([]byte(tt.in)))
			if tt.want {
				assert.True(t, json.Valid([]byte(tt.in)))
			}
		})
	}
}

// compileBody compiles a YAML body the way the loader does, for flatten and render tests.
func compileBody(t *testing.T, yamlBody string, status int) *body {
	t.Helper()
	sc, err := (&loader{ft: newFuncTypes()}).parse([]byte("status: "+strconv.Itoa(status)+"\ncontract: off\nbody:\n"+yamlBody), "t")
	require.NoError(t, err)
	require.NotNil(t, sc.body)
	return sc.body
}

func TestFlattenIndentsLikeTheRealServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		yaml   string
		want   string
	}{
		{"object", 200, "  a: 1\n  b: [x, {c: true}]\n  d: {}\n  e: []\n  f: null\n",
			"{\n  \"a\": 1,\n  \"b\": [\n    \"x\",\n    {\n      \"c\": true\n    }\n  ],\n  \"d\": {},\n  \"e\": [],\n  \"f\": null\n}\n"},
		{"keys keep file order", 200, "  z: 1\n  a: 2\n  m: 3\n", "{\n  \"z\": 1,\n  \"a\": 2,\n  \"m\": 3\n}\n"},
		{"floats and strings", 200, "  f: 1.25\n  s: \"quote \\\" here\"\n  n: '007'\n", "{\n  \"f\": 1.25,\n  \"s\": \"quote \\\" here\",\n  \"n\": \"007\"\n}\n"},
		{"error members reordered, empty dropped, id and status set", 404,
			"  errors:\n    - detail: d\n      meta: {k: v}\n      title: t\n      code: c\n      source: {pointer: /x}\n      extra: 1\n      links: {about: u}\n      empty: ''\n      status: '999'\n      id: fixed\n",
			"{\n  \"errors\": [\n    {\n      \"id\": \"RID\",\n      \"links\": {\n        \"about\": \"u\"\n      },\n      \"status\": \"404\",\n      \"code\": \"c\",\n      \"title\": \"t\",\n      \"detail\": \"d\",\n      \"source\": {\n        \"pointer\": \"/x\"\n      },\n      \"meta\": {\n        \"k\": \"v\"\n      },\n      \"extra\": 1\n    }\n  ]\n}\n"},
		{"2xx errors are left alone", 200, "  errors:\n    - id: fixed\n      title: ''\n", "{\n  \"errors\": [\n    {\n      \"id\": \"fixed\",\n      \"title\": \"\"\n    }\n  ]\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := compileBody(t, tt.yaml, tt.status)
			got, err := b.render(nil, newFaker(), &Vars{RequestID: "RID"})
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			var re bytes.Buffer
			require.NoError(t, json.Indent(&re, bytes.TrimSpace(got), "", "  "))
			assert.Equal(t, strings.TrimSuffix(tt.want, "\n"), re.String(), "two-space indentation, as json.Indent writes it")
		})
	}
}

func TestTextBodyIsSentAsItIs(t *testing.T) {
	t.Parallel()
	sc, err := (&loader{ft: newFuncTypes()}).parse([]byte("status: 502\nheaders:\n  Content-Type: text/plain\nbody: \"bad gateway for {{ .Provider }}\\n\"\n"), "t")
	require.NoError(t, err)
	got, err := sc.body.render(nil, newFaker(), &Vars{Provider: "a\"b"})
	require.NoError(t, err)
	assert.Equal(t, "bad gateway for a\"b\n", string(got))
	assert.True(t, utf8.Valid(got))
}

func TestTruncateJSONIsNeverValid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "{}", "[1]", `{"a": 1}`, "{\n  \"access_token\": \"abc\"\n}\n"} {
		out := truncateJSON([]byte(in))
		assert.False(t, json.Valid(out), "%q -> %q", in, out)
		assert.NotEmpty(t, out)
	}
}
