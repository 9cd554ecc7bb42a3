import ArgumentParser
import StrataCore

// `--visibility local|shared|global`: the raw values are the words users type, and CaseIterable
// gives ArgumentParser the choices for help and for the error on a wrong word. StrataCore stays
// free of ArgumentParser; only this executable parses command lines.
extension Visibility: ExpressibleByArgument {}
