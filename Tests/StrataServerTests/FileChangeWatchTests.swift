#if canImport(Glibc)
import Glibc
#endif
@testable import StrataServer
import StrataTesting
import Testing

/// FileChangeWatch on a real folder: what it tells apart (the file and its neighbours), every
/// kind of change TokenAuthority must see at once, the backstop, and a watch whose folder is
/// gone. TokenTests holds TokenAuthority to the same changes through the watch.
@Suite struct FileChangeWatchTests {
    static func touch(_ path: String, _ text: String = "x") {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    @Test func tells_the_file_s_changes_from_its_neighbours() throws {
        let folder = scratchFolder("StrataServerTests", "watch")
        let path = folder + "/tokens.json"
        Self.touch(path)
        let watch = FileChangeWatch(path: path, backstop: .seconds(3600))
        #expect(watch.mayHaveChanged(), "the first ask")
        #expect(!watch.mayHaveChanged())
        // A neighbour (a store's own files, the token file's lock) is not the file.
        Self.touch(folder + "/strata.db")
        Self.touch(folder + "/tokens.json.lock")
        #expect(!watch.mayHaveChanged())
        let changes: [(String, () -> Void)] = [
            ("written in place", { Self.touch(path, "y") }),
            ("replaced by a rename", { Self.touch(folder + "/next"); rename(folder + "/next", path) }),
            ("made unreadable", { chmod(path, 0o000) }),
            ("deleted", { unlink(path) }),
            ("created", { Self.touch(path) }),
            ("renamed away", { rename(path, folder + "/gone") }),
        ]
        for (what, change) in changes {
            change()
            #expect(watch.mayHaveChanged(), "\(what)")
            #expect(!watch.mayHaveChanged(), "\(what), asked again")
        }
    }

    @Test func answers_yes_at_the_backstop_and_once_its_folder_is_gone() throws {
        let folder = scratchFolder("StrataServerTests", "watch-gone")
        let path = folder + "/tokens.json"
        let watch = FileChangeWatch(path: path, backstop: .milliseconds(20))
        #expect(watch.mayHaveChanged())
        #expect(!watch.mayHaveChanged())
        usleep(40_000)
        #expect(watch.mayHaveChanged(), "the backstop")
        #expect(rmdir(folder) == 0)
        #expect(watch.mayHaveChanged())
        #expect(watch.mayHaveChanged(), "no watch any more: every ask is yes")
        let never = FileChangeWatch(path: "/nonexistent-strata-folder/tokens.json")
        #expect(never.mayHaveChanged() && never.mayHaveChanged(), "no folder to watch")
    }
}
