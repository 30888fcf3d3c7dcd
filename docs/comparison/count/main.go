// Command count counts the lines of code of Go files: lines holding at
// least one token (not blank, not only a comment), in total and inside
// plumbing regions (from a "//count:plumbing" line to a "//count:end"
// line: names, wiring, start/stop).
//
//	go run ./count                        # busway/main.go and watermill/main.go
//	go run ./count FILE...
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"strings"
)

func main() {
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 {
		files = []string{"busway/main.go", "watermill/main.go"}
	}
	fmt.Printf("%-40s %6s %9s\n", "file", "code", "plumbing")
	for _, f := range files {
		code, plumbing, err := count(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "count:", err)
			os.Exit(1)
		}
		fmt.Printf("%-40s %6d %9d\n", f, code, plumbing)
	}
}

// count returns how many lines of file hold code, and how many of those
// are inside plumbing regions.
func count(file string) (code, plumbing int, err error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return 0, 0, err
	}
	lines := codeLines(src)
	in := plumbingLines(src)
	for l := range lines {
		code++
		if in[l] {
			plumbing++
		}
	}
	return code, plumbing, nil
}

// codeLines returns the set of lines holding a token other than a comment.
func codeLines(src []byte) map[int]bool {
	fset := token.NewFileSet()
	f := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0) // comments skipped
	lines := map[int]bool{}
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return lines
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted at a line end
		}
		lines[f.Line(pos)] = true
	}
}

// plumbingLines returns the set of lines inside plumbing regions.
func plumbingLines(src []byte) map[int]bool {
	in, inside := map[int]bool{}, false
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		switch strings.TrimSpace(sc.Text()) {
		case "//count:plumbing":
			inside = true
		case "//count:end":
			inside = false
		default:
			in[n] = inside
		}
	}
	return in
}
