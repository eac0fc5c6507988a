package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf is a fake getenv over a map.
func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func defaults() config {
	var c config
	newFlagSet(&c)
	return c
}

func TestParseCommandPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantCmd string
		wantOp  string
		edit    func(*config)
	}{
		{name: "defaults", edit: func(*config) {}},
		{name: "PORT alone", env: map[string]string{"PORT": "9000"}, edit: func(c *config) { c.addr = ":9000" }},
		{name: "env addr beats PORT", env: map[string]string{"PORT": "9000", "FEDTOKEN_MOCK_ADDR": "127.0.0.1:7000"},
			edit: func(c *config) { c.addr = "127.0.0.1:7000" }},
		{name: "flag beats env and PORT", args: []string{"--addr", "127.0.0.1:0"},
			env:  map[string]string{"PORT": "9000", "FEDTOKEN_MOCK_ADDR": "127.0.0.1:7000"},
			edit: func(c *config) { c.addr = "127.0.0.1:0" }},
		{name: "every env var", env: map[string]string{
			"FEDTOKEN_MOCK_ADDR": ":1", "FEDTOKEN_MOCK_ADMIN_ADDR": ":2", "FEDTOKEN_MOCK_SCENARIOS": "dir",
			"FEDTOKEN_MOCK_AUTH": "off", "FEDTOKEN_MOCK_SEED": "42", "FEDTOKEN_MOCK_LOG_FORMAT": "json",
			"FEDTOKEN_MOCK_LOG_LEVEL": "debug", "FEDTOKEN_MOCK_JOURNAL_SIZE": "5", "FEDTOKEN_MOCK_ADMIN_TOKEN": "s3cret",
			"FEDTOKEN_MOCK_MAX_SESSIONS": "7", "FEDTOKEN_MOCK_SESSION_TTL": "1m", "FEDTOKEN_MOCK_LATENCY": "50ms..150ms",
			"FEDTOKEN_MOCK_SHUTDOWN_TIMEOUT": "3s",
		}, edit: func(c *config) {
			*c = config{addr: ":1", adminAddr: ":2", scenarios: "dir", auth: "off", seed: 42, logFormat: "json",
				logLevel: slog.LevelDebug, journalSize: 5, adminToken: "s3cret", maxSessions: 7, sessionTTL: time.Minute,
				latency: "50ms..150ms", shutdownTimeout: 3 * time.Second}
		}},
		{name: "every flag beats its env var", args: []string{
			"--addr", ":1", "--admin-addr", ":2", "--scenarios", "dir", "--auth", "off", "--seed", "42",
			"--log-format", "json", "--log-level", "warn", "--journal-size", "0", "--admin-token", "flagtoken",
			"--max-sessions", "7", "--session-ttl", "1m", "--latency", "10ms", "--shutdown-timeout", "3s",
		}, env: map[string]string{
			"FEDTOKEN_MOCK_ADDR": ":9", "FEDTOKEN_MOCK_ADMIN_ADDR": ":8", "FEDTOKEN_MOCK_SCENARIOS": "other",
			"FEDTOKEN_MOCK_AUTH": "require", "FEDTOKEN_MOCK_SEED": "1", "FEDTOKEN_MOCK_LOG_FORMAT": "text",
			"FEDTOKEN_MOCK_LOG_LEVEL": "error", "FEDTOKEN_MOCK_JOURNAL_SIZE": "9", "FEDTOKEN_MOCK_ADMIN_TOKEN": "envtoken",
			"FEDTOKEN_MOCK_MAX_SESSIONS": "9", "FEDTOKEN_MOCK_SESSION_TTL": "9m", "FEDTOKEN_MOCK_LATENCY": "9s",
			"FEDTOKEN_MOCK_SHUTDOWN_TIMEOUT": "9s",
		}, edit: func(c *config) {
			*c = config{addr: ":1", adminAddr: ":2", scenarios: "dir", auth: "off", seed: 42, logFormat: "json",
				logLevel: slog.LevelWarn, journalSize: 0, adminToken: "flagtoken", maxSessions: 7, sessionTTL: time.Minute,
				latency: "10ms", shutdownTimeout: 3 * time.Second}
		}},
		{name: "empty env counts as unset", env: map[string]string{"FEDTOKEN_MOCK_AUTH": "", "FEDTOKEN_MOCK_SEED": ""},
			edit: func(*config) {}},
		{name: "single-dash and = forms", args: []string{"-seed=7", "-auth=off"},
			edit: func(c *config) { c.seed, c.auth = 7, "off" }},
		{name: "validate DIR", args: []string{"validate", "some/dir"}, wantCmd: "validate", wantOp: "some/dir",
			edit: func(*config) {}},
		{name: "validate defaults to --scenarios", args: []string{"validate"}, wantCmd: "validate", wantOp: "envdir",
			env: map[string]string{"FEDTOKEN_MOCK_SCENARIOS": "envdir"}, edit: func(c *config) { c.scenarios = "envdir" }},
		{name: "flags before and after the command", args: []string{"--admin-addr", ":2", "healthcheck", "--addr", ":1"},
			wantCmd: "healthcheck", edit: func(c *config) { c.addr, c.adminAddr = ":1", ":2" }},
		{name: "version", args: []string{"version"}, wantCmd: "version", edit: func(*config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := parseCommand(tt.args, envOf(tt.env))
			require.NoError(t, err)
			want := defaults()
			tt.edit(&want)
			wantCmd := tt.wantCmd
			if wantCmd == "" {
				wantCmd = "serve"
			}
			assert.Equal(t, wantCmd, cmd.name)
			assert.Equal(t, tt.wantOp, cmd.operand)
			assert.Equal(t, want, cmd.cfg)
		})
	}
}

func TestDefaults(t *testing.T) {
	c := defaults()
	assert.Equal(t, ":8080", c.addr)
	assert.Equal(t, "require", c.auth)
	assert.Equal(t, "text", c.logFormat)
	assert.Equal(t, slog.LevelInfo, c.logLevel)
	assert.Equal(t, 1000, c.journalSize)
	assert.Equal(t, 1000, c.maxSessions)
	assert.Equal(t, 30*time.Minute, c.sessionTTL)
	assert.Equal(t, 10*time.Second, c.shutdownTimeout)
}

// TestBadValues runs the whole program: a bad value is one line naming the flag or variable and
// the value, exit code 2, no usage dump.
func TestBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"seed not a number", []string{"--seed", "abc"}, nil, `invalid value "abc" for flag --seed`},
		{"seed env", nil, map[string]string{"FEDTOKEN_MOCK_SEED": "-3"}, `invalid value "-3" for FEDTOKEN_MOCK_SEED`},
		{"auth", []string{"--auth", "maybe"}, nil, `invalid value "maybe" for flag --auth: must be require or off`},
		{"auth env", nil, map[string]string{"FEDTOKEN_MOCK_AUTH": "none"}, `invalid value "none" for FEDTOKEN_MOCK_AUTH: must be require or off`},
		{"log format", []string{"--log-format", "xml"}, nil, `invalid value "xml" for flag --log-format: must be text or json`},
		{"log level env", nil, map[string]string{"FEDTOKEN_MOCK_LOG_LEVEL": "loud"}, `invalid value "loud" for FEDTOKEN_MOCK_LOG_LEVEL`},
		{"addr without port", []string{"--addr", "localhost"}, nil, `invalid value "localhost" for flag --addr: not host:port`},
		{"addr port range", []string{"--addr", ":70000"}, nil, `invalid value ":70000" for flag --addr: port "70000"`},
		{"PORT not a number", nil, map[string]string{"PORT": "http"}, `invalid value "http" for PORT`},
		{"admin addr env", nil, map[string]string{"FEDTOKEN_MOCK_ADMIN_ADDR": "nope"}, `invalid value "nope" for FEDTOKEN_MOCK_ADMIN_ADDR`},
		{"journal negative", []string{"--journal-size", "-1"}, nil, `invalid value "-1" for flag --journal-size: must be at least 0`},
		{"max sessions zero", []string{"--max-sessions", "0"}, nil, `invalid value "0" for flag --max-sessions: must be at least 1`},
		{"session ttl", []string{"--session-ttl", "soon"}, nil, `invalid value "soon" for flag --session-ttl: not a duration`},
		{"shutdown timeout zero", nil, map[string]string{"FEDTOKEN_MOCK_SHUTDOWN_TIMEOUT": "0s"}, `invalid value "0s" for FEDTOKEN_MOCK_SHUTDOWN_TIMEOUT: must be positive`},
		{"latency garbage", []string{"--latency", "fast"}, nil, `invalid value "fast" for flag --latency: not a duration or a range`},
		{"latency reversed", []string{"--latency", "2s..1s"}, nil, `invalid value "2s..1s" for flag --latency: range minimum is above its maximum`},
		{"latency negative", []string{"--latency", "-1s..1s"}, nil, `must not be negative`},
		{"latency above the cap", []string{"--latency", "1s..11m"}, nil, `invalid value "1s..11m" for flag --latency: above the 10m0s maximum`},
		{"unknown flag", []string{"--nope"}, nil, `flag provided but not defined: --nope`},
		{"unknown command", []string{"serveit"}, nil, `unknown command "serveit"`},
		{"extra operand", []string{"validate", "a", "b"}, nil, `validate: unexpected argument "b"`},
		{"version operand", []string{"version", "x"}, nil, `version: unexpected argument "x"`},
		{"validate without dir", []string{"validate"}, nil, `validate: no directory given`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, envOf(tt.env), &stdout, &stderr, nil)
			require.Error(t, err)
			code := exitCode(err, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.want)
			assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %q", stderr.String())
			assert.True(t, strings.HasPrefix(stderr.String(), "fedtoken-mock: "), stderr.String())
			assert.NotContains(t, stderr.String(), "Usage")
			assert.NotContains(t, stderr.String(), "goroutine")
			assert.Empty(t, stdout.String())
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"Usage:", "--shutdown-timeout", "FEDTOKEN_MOCK_SHUTDOWN_TIMEOUT", "validate"}},
		{[]string{"-h"}, []string{"Usage:", "--addr"}},
		{[]string{"--help"}, []string{"Usage:", "PORT=n"}},
		{[]string{"version"}, []string{"fedtoken-mock "}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, envOf(nil), &stdout, &stderr, nil)
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, stdout.String(), w)
			}
			assert.Empty(t, stderr.String())
		})
	}
}

func TestHelpListsEveryFlagWithItsEnv(t *testing.T) {
	var out bytes.Buffer
	printUsage(&out)
	var c config
	for _, name := range []string{"addr", "admin-addr", "scenarios", "auth", "seed", "log-format", "log-level",
		"journal-size", "admin-token", "max-sessions", "session-ttl", "latency", "shutdown-timeout"} {
		require.NotNil(t, newFlagSet(&c).Lookup(name), name)
		assert.Contains(t, out.String(), "--"+name+" ")
		assert.Contains(t, out.String(), "["+envName(name)+"]")
	}
}

func TestEnvName(t *testing.T) {
	assert.Equal(t, "FEDTOKEN_MOCK_LOG_LEVEL", envName("log-level"))
	assert.Equal(t, "FEDTOKEN_MOCK_ADDR", envName("addr"))
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     int
		wantText string
	}{
		{"nil", nil, 0, ""},
		{"plain error", assert.AnError, 1, "fedtoken-mock: " + assert.AnError.Error() + "\n"},
		{"with code", withCode(3, assert.AnError), 3, "fedtoken-mock: " + assert.AnError.Error() + "\n"},
		{"already printed", &exitError{code: 2}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			assert.Equal(t, tt.code, exitCode(tt.err, &stderr))
			assert.Equal(t, tt.wantText, stderr.String())
		})
	}
	assert.NoError(t, withCode(2, nil))
}
