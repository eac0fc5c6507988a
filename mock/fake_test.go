package mock

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlaceholderTyping(t *testing.T) {
	t.Parallel()
	ft := newFuncTypes()
	tests := []struct {
		src   string
		typed bool
	}{
		{"{{ Number 300 3600 }}", true},
		{"{{Number 1 2}}", true},
		{"{{ Bool }}", true},
		{"{{ Float64Range 1 2 }}", true},
		{"{{ Uint8 }}", true},
		{"{{ IntRange 5 9 }}", true},
		{`{{ ToInt "42" }}`, true},
		{"{{ Word | ToUpper | ToInt }}", true},
		{"{{ Word }}", false},
		{"{{ Token 16 }}", false},
		{"{{ .Status }}", false},
		{"{{ .Provider }}", false},
		{"n={{ Number 1 9 }}", false},
		{"{{ Number 1 9 }} ", false},
		{"{{ Number 1 9 }}{{ Number 1 9 }}", false},
		{"{{ Number 1 9 | ToString }}", false},
		{"{{ if Bool }}yes{{ end }}", false},
		{"{{ 42 }}", false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			ph, err := ft.compilePlaceholder(tt.src)
			require.NoError(t, err)
			assert.Equal(t, tt.typed, ph.typed)
		})
	}
}

func TestPlaceholderCompileErrors(t *testing.T) {
	t.Parallel()
	ft := newFuncTypes()
	tests := []struct{ src, msg string }{
		{"{{ Nope }}", `function "Nope" not defined`},
		{"{{ Number 1", "unclosed action"},
		{"{{ end }}", "unexpected {{end}}"},
		{"{{ Template }}", `function "Template" not defined`},
		{"{{ Struct }}", `function "Struct" not defined`},
		{"{{ Seed }}", `function "Seed" not defined`},
		{`{{ template "x" }}`, "calling templates is not supported"},
		{`{{ define "x" }}a{{ end }}`, "define and block are not supported"},
		{"{{ range SliceInt 1 2 }}x{{ end }}", "range is not supported"},
		{"{{ LetterN 50000000 }}", "LetterN would produce more than"},
		{"{{ Password true true true true true 50000000 }}", "Password would produce more than"},
		{"{{ LoremIpsumParagraph 100 100 100 \" \" }}", "LoremIpsumParagraph would produce more than"},
		{"{{ LetterN (Number 1 9) }}", "LetterN takes literal numbers only"},
		{"{{ if true }}{{ DigitN 100000 }}{{ end }}", "DigitN would produce more than"},
		{"{{ ImagePng 10 10 }}", `function "ImagePng" not defined`},
		{"{{ Token 5000 }}", "token length is at most 4096"},
		{"{{ $x := Number 1 9 }}{{ $x }}", "template variables are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := ft.compilePlaceholder(tt.src)
			if tt.msg == "" {
				// Parses, but an undefined template fails when rendered: the load-time sample catches it.
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.NotContains(t, err.Error(), "template: placeholder:", "the template package's prefix is dropped")
		})
	}
}

func TestTokenFunction(t *testing.T) {
	t.Parallel()
	f := newFaker()
	token := funcMap(f.fake, f.rnd)["Token"].(func(int) (string, error))
	for _, n := range []int{1, 32, 64, maxTokenLen} {
		s, err := token(n)
		require.NoError(t, err)
		assert.Len(t, s, n)
		assert.Regexp(t, `^[A-Za-z0-9_-]+$`, s)
	}
	for _, n := range []int{0, -1, maxTokenLen + 1, 1 << 40} {
		_, err := token(n)
		assert.ErrorContains(t, err, "outside 1..4096", "n=%d", n)
	}
}

// placeholderServer serves one scenario, "ph", whose body is the given YAML mapping.
func placeholderServer(t *testing.T, opts Options, body string) *Server {
	t.Helper()
	opts.Files = fstest.MapFS{"ph.yaml": {Data: []byte("status: 418\nproviders: [acme]\nbody:\n" + body)}}
	return newTestServer(t, opts)
}

func TestPlaceholdersRender(t *testing.T) {
	t.Parallel()
	s := placeholderServer(t, Options{}, `
  number: "{{ Number 300 3600 }}"
  bool: "{{ Bool }}"
  float: "{{ Float64Range 1 2 }}"
  mixed: "n={{ Number 1 9 }}"
  twice: "{{ Number 1 9 }}{{ Number 1 9 }}"
  piped: "{{ Number 1 9 | ToString }}"
  word: "{{ Word }}"
  provider: "{{ .Provider }}"
  upper: "{{ ToUpper .Provider }}"
  request_id: "{{ .RequestID }}"
  scenario: "{{ .Scenario }}"
  status: "{{ .Status }}"
  session: "[{{ .Session }}]"
  literal: "{ not a placeholder }"
  nested: {list: ["{{ Number 5 5 }}", "{{ Bool }}"]}
`)
	for range 20 {
		w := postToken(t, s.Handler(), "acme", "X-Mock-Session: sess-1")
		require.Equal(t, http.StatusTeapot, w.Code, w.Body.String())
		var got map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))

		require.IsType(t, float64(0), got["number"], "a single typed call is a JSON number")
		n := got["number"].(float64)
		assert.True(t, n >= 300 && n <= 3600 && n == float64(int(n)), "integer in range: %v", n)
		assert.IsType(t, true, got["bool"])
		require.IsType(t, float64(0), got["float"])
		assert.InDelta(t, 1.5, got["float"], 0.5)
		assert.Regexp(t, `^n=[1-9]$`, got["mixed"])
		assert.Regexp(t, `^[1-9]{2}$`, got["twice"], "two calls make a string")
		assert.Regexp(t, `^[1-9]$`, got["piped"], "a call piped into a string function is a string")
		assert.IsType(t, "", got["word"])
		assert.NotEmpty(t, got["word"])
		assert.Equal(t, "acme", got["provider"])
		assert.Equal(t, "ACME", got["upper"])
		assert.Equal(t, w.Header().Get("Request-Id"), got["request_id"])
		assert.Equal(t, "ph", got["scenario"])
		assert.Equal(t, "418", got["status"], "a field is not a typed call")
		assert.Equal(t, "[sess-1]", got["session"])
		assert.Equal(t, "{ not a placeholder }", got["literal"])
		assert.Equal(t, map[string]any{"list": []any{float64(5), got["nested"].(map[string]any)["list"].([]any)[1]}}, got["nested"])
		assert.IsType(t, true, got["nested"].(map[string]any)["list"].([]any)[1])
	}
}

func TestPlaceholderValuesAreEscaped(t *testing.T) {
	t.Parallel()
	s := placeholderServer(t, Options{}, "  provider: \"{{ .Provider }}\"\n")
	for _, provider := range []string{`a"b`, `back\slash`, "tab%09x", "%E2%80%A8", "%FF"} {
		w := postToken(t, s.Handler(), provider, "X-Mock-Scenario: ph")
		require.Equal(t, http.StatusTeapot, w.Code, provider)
		assert.True(t, json.Valid(w.Body.Bytes()), "provider %q: %s", provider, w.Body.String())
	}
}

// tokenBodies collects the success bodies of n requests, with the given headers.
func tokenBodies(t *testing.T, s *Server, provider string, n int, headers ...string) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		w := postToken(t, s.Handler(), provider, headers...)
		require.Equal(t, http.StatusOK, w.Code)
		out[i] = w.Body.String()
	}
	return out
}

func TestSeedDeterminism(t *testing.T) {
	t.Parallel()
	t.Run("same seed, same requests, same bodies", func(t *testing.T) {
		t.Parallel()
		a := tokenBodies(t, newTestServer(t, Options{Seed: 42}), "mobypay", 4)
		b := tokenBodies(t, newTestServer(t, Options{Seed: 42}), "mobypay", 4)
		assert.Equal(t, a, b)
		assert.Len(t, uniq(a), 4, "each request of a run still gets its own tokens")
	})
	t.Run("different seeds differ", func(t *testing.T) {
		t.Parallel()
		a := tokenBodies(t, newTestServer(t, Options{Seed: 42}), "mobypay", 3)
		b := tokenBodies(t, newTestServer(t, Options{Seed: 43}), "mobypay", 3)
		for i := range a {
			assert.NotEqual(t, a[i], b[i])
		}
	})
	t.Run("provider is part of the seed", func(t *testing.T) {
		t.Parallel()
		a := tokenBodies(t, newTestServer(t, Options{Seed: 42}), "mobypay", 1)
		b := tokenBodies(t, newTestServer(t, Options{Seed: 42}), "other", 1)
		assert.NotEqual(t, a, b)
	})
	t.Run("sessions are independent of each other's traffic", func(t *testing.T) {
		t.Parallel()
		alone := tokenBodies(t, newTestServer(t, Options{Seed: 42}), "mobypay", 3, "X-Mock-Session: a")
		s := newTestServer(t, Options{Seed: 42})
		var mixed []string
		for range 3 {
			tokenBodies(t, s, "mobypay", 2, "X-Mock-Session: b")
			tokenBodies(t, s, "mobypay", 1)
			mixed = append(mixed, tokenBodies(t, s, "mobypay", 1, "X-Mock-Session: a")...)
		}
		assert.Equal(t, alone, mixed)
	})
	t.Run("the seed covers placeholder scenarios", func(t *testing.T) {
		t.Parallel()
		body := "  n: \"{{ Number 1 1000000 }}\"\n  w: \"{{ Sentence 5 }}\"\n"
		render := func() []string {
			s := placeholderServer(t, Options{Seed: 7}, body)
			var out []string
			for range 3 {
				out = append(out, postToken(t, s.Handler(), "acme").Body.String())
			}
			return out
		}
		assert.Equal(t, render(), render())
	})
	t.Run("seed 0 is random", func(t *testing.T) {
		t.Parallel()
		a := tokenBodies(t, newTestServer(t, Options{}), "mobypay", 5)
		b := tokenBodies(t, newTestServer(t, Options{}), "mobypay", 5)
		assert.Len(t, uniq(append(a, b...)), 10)
	})
}

func TestSuccessTokens(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{0, 42} {
		s := newTestServer(t, Options{Seed: seed})
		seen := map[string]bool{}
		for _, b := range tokenBodies(t, s, "mobypay", 10) {
			var tok struct {
				AccessToken  string `json:"access_token"`
				TokenType    string `json:"token_type"`
				RefreshToken string `json:"refresh_token"`
				ExpiresIn    *int   `json:"expires_in"`
				Scope        string `json:"scope"`
			}
			dec := json.NewDecoder(strings.NewReader(b))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&tok))
			for _, v := range []string{tok.AccessToken, tok.RefreshToken} {
				assert.Regexp(t, `^[A-Za-z0-9_-]{32,}$`, v)
				assert.False(t, seen[v], "seed %d: token %s repeats", seed, v)
				seen[v] = true
			}
			assert.NotEqual(t, tok.AccessToken, tok.RefreshToken)
			assert.Equal(t, "Bearer", tok.TokenType)
			require.NotNil(t, tok.ExpiresIn)
			assert.Positive(t, *tok.ExpiresIn)
			assert.NotEmpty(t, tok.Scope)
		}
	}
}

func uniq(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

func TestEveryArgumentlessFunctionRenders(t *testing.T) {
	t.Parallel()
	ft := newFuncTypes()
	f := newFaker()
	f.seed(3, 4)
	count := 0
	for name, typ := range ft.types {
		if typ.NumIn() != 0 {
			continue
		}
		count++
		ph, err := ft.compilePlaceholder("{{ " + name + " }}")
		require.NoError(t, err, name)
		b := &body{segs: []segment{{kind: jPlaceholder, ph: ph}}}
		for range 5 {
			out, err := b.render(nil, f, &Vars{})
			require.NoError(t, err, name)
			require.True(t, json.Valid(out), "%s rendered %q", name, out)
			if ph.typed {
				assert.NotEqual(t, byte('"'), out[0], "%s returns a number or bool and renders as one: %s", name, out)
			}
		}
	}
	assert.Greater(t, count, 100, "gofakeit's functions are all there")
}
