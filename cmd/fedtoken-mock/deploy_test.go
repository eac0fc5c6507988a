package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// There is no Docker engine on the build machines, so these tests pin down what the image and the
// compose example promise; TestBinaryInEmptyEnvironment proves the binary needs nothing around it.

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	df := string(raw)
	stages := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	require.Len(t, stages, 2, "multi-stage: a builder and the final image")
	assert.True(t, strings.HasPrefix(stages[0][1], "golang:1.26"), stages[0][1])
	assert.Contains(t, []string{"scratch", "gcr.io/distroless/static-debian12:nonroot"}, stages[1][1])

	final := df[strings.LastIndex(df, "\nFROM "):]
	for _, want := range []string{
		"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/fedtoken-mock",
	} {
		assert.Contains(t, df, want)
	}
	for _, re := range []string{
		`(?m)^COPY --from=build /out/fedtoken-mock /fedtoken-mock$`,
		`(?m)^USER 65532:65532$`,
		`(?m)^EXPOSE 8080$`,
		`(?m)^\s+CMD \["/fedtoken-mock", "healthcheck"\]$`,
		`(?m)^ENTRYPOINT \["/fedtoken-mock"\]$`,
	} {
		assert.Regexp(t, re, final)
	}
	assert.Equal(t, 1, strings.Count(final, "COPY"), "the final image holds only the binary")
	assert.NotContains(t, final, "RUN", "scratch has no shell to run anything")
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	raw, err := os.ReadFile("../../.dockerignore")
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "mock", "scenarios"} {
			assert.NotEqual(t, needed, strings.Trim(line, "/*"), "the build needs %s", needed)
		}
	}
	assert.Contains(t, string(raw), ".git")
}

func TestComposeExample(t *testing.T) {
	raw, err := os.ReadFile("../../compose.example.yaml")
	require.NoError(t, err)
	var doc struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			ReadOnly    bool              `yaml:"read_only"`
			User        string            `yaml:"user"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Expose      []string          `yaml:"expose"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	m, ok := doc.Services["fedtoken-mock"]
	require.True(t, ok, "a fedtoken-mock service")
	assert.True(t, m.ReadOnly)
	assert.Equal(t, "65532:65532", m.User)
	assert.Equal(t, []string{"CMD", "/fedtoken-mock", "healthcheck"}, m.Healthcheck.Test)
	assert.Equal(t, ":8081", m.Environment["FEDTOKEN_MOCK_ADMIN_ADDR"])
	assert.Equal(t, []string{"8080:8080"}, m.Ports, "only the endpoint is published")
	assert.Equal(t, []string{"8081"}, m.Expose)

	var cfg config
	fs := newFlagSet(&cfg)
	for name := range m.Environment {
		flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, envPrefix)), "_", "-")
		assert.NotNil(t, fs.Lookup(flagName), "%s is not a variable the binary reads", name)
	}

	fe, ok := doc.Services["frontend"]
	require.True(t, ok, "a frontend service")
	assert.Equal(t, "service_healthy", fe.DependsOn["fedtoken-mock"].Condition)
	assert.Contains(t, fe.Environment["TOKEN_API_BASE_URL"], "http://fedtoken-mock:8080")
}
