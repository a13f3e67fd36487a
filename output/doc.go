// Package output prints the Result of an audit query (package engine) for
// people and for programs: WriteTable as aligned tables, WriteJSON as
// indented JSON, WriteCSV in long form, one figure a line. It is what
// laiondb query --format table|json|csv prints.
package output
