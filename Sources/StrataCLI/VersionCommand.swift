import ArgumentParser
import StrataCore
import StrataPlugins

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of Strata and of its C ABI.")

    @OptionGroup var output: OutputOptions

    func run() throws {
        let abi = PluginABI.describe(PluginABI.hostVersion)
        if output.json {
            printJSON(.object(["version": .string(StrataVersion.string), "abi": .string(abi)]))
        } else {
            print("strata \(StrataVersion.string) (ABI \(abi))")
        }
    }
}
