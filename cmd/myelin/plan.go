package main

import (
	"context"
	"fmt"
)

func cmdPlan(_ context.Context, e *env, args []string) error {
	return fmt.Errorf("not implemented yet")
}
