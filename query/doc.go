// Package query is laiondb's audit query language: lexer, parser, plans and
// contamination statistics. It imports only the standard library and runs
// against the Store interface, which package db implements.
package query
