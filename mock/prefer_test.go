package mock

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParsePrefer(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1<<20)
	many := make([]string, 100)
	for i := range many {
		many[i] = strings.Repeat("y", 50) // 5000 bytes in all, past the 4096 budget
	}
	tests := []struct {
		name   string
		values []string
		want   preference
	}{
		{"none", nil, preference{}},
		{"empty value", []string{""}, preference{}},
		{"example", []string{"example=not-found"}, preference{example: "not-found"}},
		{"quoted example", []string{`example="not-found"`}, preference{example: "not-found"}},
		{"code", []string{"code=404"}, preference{code: 404}},
		{"quoted code", []string{`code="401"`}, preference{code: 401}},
		{"spaces around", []string{"  example =  internal-error  "}, preference{example: "internal-error"}},
		{"key is case-insensitive, value is not", []string{"Example=Not-Found"}, preference{example: "Not-Found"}},
		{"comma separated", []string{"code=404, example=internal-error"}, preference{example: "internal-error", code: 404}},
		{"semicolon separated", []string{"return=minimal; example=success;code=500"}, preference{example: "success", code: 500}},
		{"several header values", []string{"code=401", "example=not-found"}, preference{example: "not-found", code: 401}},
		{"first example wins", []string{"example=a, example=b", "example=c"}, preference{example: "a"}},
		{"first code wins", []string{"code=404, code=500"}, preference{code: 404}},
		{"a bad first code wins too", []string{"code=abc, code=404"}, preference{badCode: "abc"}},
		{"other preferences ignored", []string{"return=representation, dynamic=true, respond-async, wait=10"}, preference{}},
		{"code not a number", []string{"code=teapot"}, preference{badCode: "teapot"}},
		{"code below 100", []string{"code=99"}, preference{badCode: "99"}},
		{"code above 599", []string{"code=600"}, preference{badCode: "600"}},
		{"code with sign", []string{"code=+404"}, preference{code: 404}},
		{"code 1xx", []string{"code=100"}, preference{code: 100}},
		{"empty code is no code", []string{"code="}, preference{}},
		{"empty quoted example is no example", []string{`example=""`}, preference{}},
		{"lone quote kept", []string{`example="`}, preference{example: `"`}},
		{"junk separators", []string{";;;,,, ; ,"}, preference{}},
		{"junk without values", []string{"example", "=", "=x", "code"}, preference{}},
		{"binary junk", []string{"\x00\xff=\x01, example=\xfe"}, preference{example: "\xfe"}},
		{"value with equals", []string{"example=a=b"}, preference{example: "a=b"}},
		{"huge value then a preference", []string{huge + ",example=late"}, preference{}},
		{"preference then a huge value", []string{"example=early," + huge}, preference{example: "early"}},
		{"budget spans header values", append(many, "example=late"), preference{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, parsePrefer(tt.values))
		})
	}
}

// TestParsePreferCutAtSeparator checks that a preference split by the length limit is dropped,
// not misread as a shorter value.
func TestParsePreferCutAtSeparator(t *testing.T) {
	padding := strings.Repeat("x=y, ", (maxPreferLen-4)/5)
	tests := []struct {
		name  string
		value string
		code  int
	}{
		{"whole preference inside the limit", "code=404", 404},
		{"preference split by the limit", padding[:maxPreferLen-6] + ", code=4045", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePrefer([]string{tt.value})
			assert.Equal(t, tt.code, p.code)
			assert.Empty(t, p.badCode)
		})
	}
}
