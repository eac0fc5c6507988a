package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// config is everything the flags and the environment decide.
type config struct {
	addr            string
	adminAddr       string
	scenarios       string
	auth            string // "require" or "off"
	seed            uint64
	logFormat       string // "text" or "json"
	logLevel        slog.Level
	journalSize     int // 0 disables the journal
	adminToken      string
	maxSessions     int
	sessionTTL      time.Duration
	latency         string // "", a duration, or MIN..MAX
	shutdownTimeout time.Duration
}

// command is a parsed command line: which command, its operand and the configuration.
type command struct {
	name    string // "serve", "validate", "healthcheck", "version" or "help"
	operand string // validate's DIR
	cfg     config
}

// errHelp reports -h/--help; run answers it with the usage on stdout and exit 0.
var errHelp = errors.New("help requested")

// maxOperands says how many operands a command takes at most, and whether the command exists.
func maxOperands(name string) (int, bool) {
	switch name {
	case "validate":
		return 1, true
	case "serve", "healthcheck", "version", "help":
		return 0, true
	}
	return 0, false
}

// newFlagSet binds every flag to cfg. The set never prints: run reports a bad value in one line
// instead of the flag package's error-plus-usage dump.
func newFlagSet(cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet(programName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	*cfg = config{
		addr: defaultAddr, auth: "require", logFormat: "text", logLevel: slog.LevelInfo,
		journalSize: 1000, maxSessions: 1000, sessionTTL: 30 * time.Minute, shutdownTimeout: 10 * time.Second,
	}
	fs.Func("addr", "listen `address` of the endpoint, and of the admin API unless --admin-addr is set (default \":8080\"; PORT=n alone means \":n\")",
		func(s string) error { return setAddr(&cfg.addr, s) })
	fs.Func("admin-addr", "separate listen `address` for the admin API (/__admin); --addr then serves only the endpoint",
		func(s string) error { return setAddr(&cfg.adminAddr, s) })
	fs.StringVar(&cfg.scenarios, "scenarios", "", "`directory` of scenario files layered over the built-in set")
	fs.Func("auth", "`require|off`: with require a request without a bearer token gets the unauthorized scenario (default \"require\")",
		enum(&cfg.auth, "require", "off"))
	fs.Uint64Var(&cfg.seed, "seed", 0, "seed for reproducible fake data; 0 means random")
	fs.Func("log-format", "log format, `text|json` (default \"text\")", enum(&cfg.logFormat, "text", "json"))
	fs.Func("log-level", "log level, `debug|info|warn|error` (default \"info\")", func(s string) error {
		return setLevel(&cfg.logLevel, s)
	})
	fs.Func("journal-size", "`entries` kept in the request journal; 0 disables it (default 1000)",
		func(s string) error { return setInt(&cfg.journalSize, s, 0) })
	fs.StringVar(&cfg.adminToken, "admin-token", "", "bearer `token` every admin call but health then requires; never logged")
	fs.Func("max-sessions", "live sessions kept at most (`n`); when full the oldest idle one goes (default 1000)",
		func(s string) error { return setInt(&cfg.maxSessions, s, 1) })
	fs.Func("session-ttl", "idle sessions expire after this `duration` (default 30m)",
		func(s string) error { return setDuration(&cfg.sessionTTL, s) })
	fs.Func("latency", "extra delay on every response: a duration or a uniform `range` MIN..MAX, e.g. 50ms..150ms",
		func(s string) error { return setLatency(&cfg.latency, s) })
	fs.Func("shutdown-timeout", "how long (`duration`) shutdown waits for in-flight requests before cutting them (default 10s)",
		func(s string) error { return setDuration(&cfg.shutdownTimeout, s) })
	return fs
}

// envName is the environment fallback of a flag: --log-level is FEDTOKEN_MOCK_LOG_LEVEL.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseCommand parses `[flags] [COMMAND [flags] [OPERAND]]` and then fills every flag not given
// on the command line from its environment variable.
func parseCommand(args []string, getenv func(string) string) (command, error) {
	var cmd command
	fs := newFlagSet(&cmd.cfg)
	if err := parseFlags(fs, args); err != nil {
		return cmd, err
	}
	rest := fs.Args()
	cmd.name = "serve"
	if len(rest) > 0 {
		cmd.name = rest[0]
		if _, ok := maxOperands(cmd.name); !ok {
			return cmd, fmt.Errorf("unknown command %q", cmd.name)
		}
		// Flags may follow the command too: `fedtoken-mock healthcheck --addr :9090`.
		if err := parseFlags(fs, rest[1:]); err != nil {
			return cmd, err
		}
		rest = fs.Args()
	}
	if limit, _ := maxOperands(cmd.name); len(rest) > limit {
		return cmd, fmt.Errorf("%s: unexpected argument %q", cmd.name, rest[limit])
	}
	if len(rest) == 1 {
		cmd.operand = rest[0]
	}
	if err := applyEnv(fs, getenv); err != nil {
		return cmd, err
	}
	if cmd.name == "validate" && cmd.operand == "" {
		cmd.operand = cmd.cfg.scenarios
		if cmd.operand == "" {
			return cmd, errors.New("validate: no directory given (validate DIR, or --scenarios)")
		}
	}
	return cmd, nil
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	// The flag package spells flags "-name"; the documentation says "--name".
	msg := strings.NewReplacer("for flag -", "for flag --", "not defined: -", "not defined: --").Replace(err.Error())
	return errors.New(msg)
}

// applyEnv sets each flag the command line left alone from FEDTOKEN_MOCK_<NAME> (and --addr from
// PORT when FEDTOKEN_MOCK_ADDR is unset), so a flag beats the environment, which beats the default.
// An empty variable counts as unset.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var first error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || first != nil {
			return
		}
		name := envName(f.Name)
		raw := getenv(name)
		value := raw
		if raw == "" && f.Name == "addr" {
			if raw = getenv("PORT"); raw != "" {
				name, value = "PORT", ":"+raw
			}
		}
		if raw == "" {
			return
		}
		if err := fs.Set(f.Name, value); err != nil {
			first = fmt.Errorf("invalid value %q for %s: %v", raw, name, err)
		}
	})
	return first
}

func enum(p *string, allowed ...string) func(string) error {
	return func(s string) error {
		for _, a := range allowed {
			if s == a {
				*p = s
				return nil
			}
		}
		return fmt.Errorf("must be %s", strings.Join(allowed, " or "))
	}
}

func setLevel(p *slog.Level, s string) error {
	switch strings.ToLower(s) {
	case "debug":
		*p = slog.LevelDebug
	case "info":
		*p = slog.LevelInfo
	case "warn", "warning":
		*p = slog.LevelWarn
	case "error":
		*p = slog.LevelError
	default:
		return errors.New("must be debug, info, warn or error")
	}
	return nil
}

func setInt(p *int, s string, min int) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	if n < min {
		return fmt.Errorf("must be at least %d", min)
	}
	*p = n
	return nil
}

func setDuration(p *time.Duration, s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (e.g. 30s, 5m)")
	}
	if d <= 0 {
		return errors.New("must be positive")
	}
	*p = d
	return nil
}

// setAddr accepts host:port with a numeric port (host may be empty: ":8080" is every interface).
func setAddr(p *string, s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("not host:port (e.g. :8080, 127.0.0.1:8080)")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	*p = s
	return nil
}

// maxLatency is the library's cap on any delay (mock's maxDelay), checked here for a flag-named error.
const maxLatency = 10 * time.Minute

// setLatency checks the form the mock takes, a duration or MIN..MAX with MIN <= MAX, so a typo
// is a flag error at start-up; the mock receives the string unchanged.
func setLatency(p *string, s string) error {
	lo, hi, isRange := strings.Cut(s, "..")
	if !isRange {
		hi = lo
	}
	from, err1 := time.ParseDuration(strings.TrimSpace(lo))
	to, err2 := time.ParseDuration(strings.TrimSpace(hi))
	switch {
	case err1 != nil || err2 != nil:
		return errors.New("not a duration or a range MIN..MAX (e.g. 100ms, 50ms..150ms)")
	case from < 0:
		return errors.New("must not be negative")
	case from > to:
		return errors.New("range minimum is above its maximum")
	case to > maxLatency:
		return fmt.Errorf("above the %s maximum", maxLatency)
	}
	*p = s
	return nil
}

// printUsage writes the help text: commands, then each flag with its environment variable.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage:
  %[1]s [flags]                 serve the mock (default)
  %[1]s validate [flags] [DIR]  check scenario files as start-up would (DIR defaults to --scenarios)
  %[1]s healthcheck [flags]     ask a running instance (its --admin-addr or --addr) for health; exit 0/1
  %[1]s version                 print the version
  %[1]s help                    print this help

Flags (each also read from the environment variable shown; a flag beats the environment, which beats the default):
`, programName)
	var cfg config
	newFlagSet(&cfg).VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if arg == "value" {
			arg = ""
		}
		fmt.Fprintf(w, "  --%s %s\n        %s  [%s]\n", f.Name, arg, usage, envName(f.Name))
	})
	fmt.Fprintf(w, `
Signals: SIGTERM/SIGINT shut down gracefully (a second one forces exit); SIGHUP reloads the scenarios.
Exit codes: 0 ok; 1 failure (validate problems, healthcheck, serving); 2 bad usage, configuration,
port in use or scenario errors; 3 shutdown timed out and cut requests; 4 forced by a second signal.
`)
}
