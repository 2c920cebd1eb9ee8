package totp_test

import (
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

func Example() {
	seed := []byte("12345678901234567890")
	now := time.Unix(1111111109, 0)
	code := totp.Default.Code(seed, now)
	step, ok := totp.Default.Verify(seed, code, totp.Default.Step(now), 1, 0)
	fmt.Println(code, ok)
	// A second use of the same code is refused once its step is remembered.
	_, again := totp.Default.Verify(seed, code, totp.Default.Step(now), 1, step)
	fmt.Println(again)
	// Output:
	// 081804 true
	// false
}
