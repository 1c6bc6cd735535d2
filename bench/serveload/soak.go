package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soak runs concurrency 64 for c.soak with 10% malformed requests.
func soak(c config, fp32, pngs []request) error {
	const maxBody = 1 << 20
	srv, err := startServer(c, "--max-body", strconv.Itoa(maxBody), "--read-timeout", "2s")
	if err != nil {
		return err
	}
	bad := malformed(fp32[0], maxBody)
	client := newClient(64)
	ctx, cancel := context.WithTimeout(context.Background(), c.soak)
	defer cancel()
	var (
		validSent, validFailed, badSent, badNot4xx atomic.Int64
		mu                                         sync.Mutex
		failures                                   = map[string]int{}
	)
	note := func(what string) {
		mu.Lock()
		if failures[what]++; failures[what] == 1 {
			fmt.Printf("  soak: %s\n", what)
		}
		mu.Unlock()
	}
	warm := min(10*time.Second, c.soak/6)
	var rssWarm float64
	go func() {
		select {
		case <-time.After(warm):
			rssWarm = srv.status("VmRSS")
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil && n.Add(1) <= c.maxRequests {
				if rng.IntN(10) == 0 {
					r := bad[rng.IntN(len(bad))]
					badSent.Add(1)
					code, err := r.do(client, srv.url)
					if err != nil || code < 400 || code > 499 {
						badNot4xx.Add(1)
						note(fmt.Sprintf("%s answered %d %v", r.kind, code, err))
					}
					continue
				}
				r := fp32[rng.IntN(len(fp32))]
				if rng.IntN(4) == 0 {
					r = pngs[rng.IntN(len(pngs))]
				}
				validSent.Add(1)
				if code, err := r.do(client, srv.url); err != nil || code != 200 {
					validFailed.Add(1)
					note(fmt.Sprintf("valid %s request answered %d %v", r.kind, code, err))
				}
			}
		}()
	}
	wg.Wait()
	rssEnd := srv.status("VmRSS")
	panics := strings.Count(srv.logs(), "panic")
	stopErr := srv.stop()
	growth := rssEnd/rssWarm - 1
	fmt.Printf("\n## soak: %v at concurrency 64, 10%% malformed\n\n", c.soak)
	fmt.Printf("valid requests %d, failed %d; malformed %d, not answered 4xx %d; panics logged %d; RSS after %v warm-up %.0f MB, at the end %.0f MB (%+.1f%%)\n",
		validSent.Load(), validFailed.Load(), badSent.Load(), badNot4xx.Load(), panics, warm, rssWarm, rssEnd, 100*growth)
	ok := validFailed.Load() == 0 && badNot4xx.Load() == 0 && panics == 0 && growth <= 0.10 && stopErr == nil
	if !ok {
		return fmt.Errorf("soak failed (drain: %v)", stopErr)
	}
	fmt.Println("- PASS: soak (zero failed valid requests, every malformed one 4xx, no panic, RSS within 10%, clean drain)")
	return nil
}
