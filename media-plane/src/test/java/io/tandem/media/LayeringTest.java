package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The layering of DESIGN.md, checked on the sources: each package uses only what stands below it. The relay (the
 * packet path) never reaches up into the session model or the control protocol; the session model names nothing
 * of control; codec and stats use nothing of Tandem's above them; no package cycle anywhere; the ng wire is a
 * module of its own.
 */
class LayeringTest
{
    private static final Path SOURCES = Path.of("src/main/java/io/tandem/media");
    private static final Pattern TANDEM_REFERENCE = Pattern.compile("\\bio\\.tandem\\.media\\.(\\w+)");

    /** Every package of io.tandem.media a package's sources name, other than itself. */
    private static List<String> referencesFrom(final String pkg) throws IOException
    {
        final List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(pkg.isEmpty() ? SOURCES : SOURCES.resolve(pkg)))
        {
            for (final Path file : files.filter((f) -> f.toString().endsWith(".java")).toList())
            {
                final Matcher m = TANDEM_REFERENCE.matcher(Files.readString(file));
                while (m.find())
                {
                    final String target = Character.isUpperCase(m.group(1).charAt(0)) ? "(io.tandem.media)" : m.group(1);
                    if (!target.equals(pkg) && !(pkg.isEmpty() && target.equals("(io.tandem.media)")))
                    {
                        found.add(file.getFileName() + " -> " + target);
                    }
                }
            }
        }
        return found;
    }

    @Test
    void theRelayUsesOnlyCodecAndStats() throws IOException
    {
        final List<String> references = referencesFrom("relay");
        assertTrue(!references.isEmpty(), "the check reads the relay's sources"); // it does use codec and stats
        assertEquals(List.of(), references.stream().filter((r) -> !r.endsWith("-> codec") && !r.endsWith("-> stats")).toList());
    }

    @Test
    void codecAndStatsUseNothingAboveThem() throws IOException
    {
        assertEquals(List.of(), referencesFrom("codec"));
        assertEquals(List.of(), referencesFrom("stats"));
    }

    /** The call model knows nothing of the control protocol, nor of the media plane that wires it. */
    @Test
    void theSessionModelNamesNothingOfControl() throws IOException
    {
        final List<String> references = referencesFrom("session");
        assertTrue(references.stream().anyMatch((r) -> r.endsWith("-> relay")), "the check reads the session's sources");
        assertEquals(List.of(), references.stream()
            .filter((r) -> r.endsWith("-> control") || r.endsWith("-> (io.tandem.media)")).toList());
    }

    /**
     * The relay's sockets and agent are its own: the session model and the control protocol reach it only through
     * the typed hand-over ({@code RelayProxy}, {@code ForwardingEntry}, and the values it reports).
     */
    @Test
    void sessionAndControlReachTheRelayOnlyThroughItsHandOver() throws IOException
    {
        final Pattern internals = Pattern.compile("\\b(Endpoint|ForwardingAgent|EpollTransport|NioTransport|MediaSockets)\\b");
        final List<String> found = new ArrayList<>();
        for (final String pkg : List.of("session", "control"))
        {
            try (Stream<Path> files = Files.walk(SOURCES.resolve(pkg)))
            {
                for (final Path file : files.filter((f) -> f.toString().endsWith(".java")).toList())
                {
                    final Matcher m = internals.matcher(Files.readString(file));
                    while (m.find())
                    {
                        found.add(file.getFileName() + " names " + m.group(1));
                    }
                }
            }
        }
        assertEquals(List.of(), found);
    }

    /** No package reaches, directly or through others, back to itself: the layers form a line, not a loop. */
    @Test
    void noPackageCycles() throws IOException
    {
        final Map<String, Set<String>> uses = new TreeMap<>();
        for (final String pkg : List.of("", "control", "session", "relay", "codec", "stats"))
        {
            final Set<String> targets = new TreeSet<>();
            for (final String reference : referencesFrom(pkg))
            {
                final String target = reference.substring(reference.indexOf("-> ") + 3);
                targets.add(target.equals("(io.tandem.media)") ? "" : target);
            }
            targets.remove(pkg);
            uses.put(pkg, targets);
        }
        assertTrue(uses.get("").contains("control"), "the check reads the media plane's sources");
        for (final String start : uses.keySet())
        {
            final Deque<String> path = new ArrayDeque<>(List.of(start));
            assertEquals(List.of(), cycleFrom(start, start, uses, path, new HashSet<>()), "a cycle through '" + start + "'");
        }
    }

    /** A path from {@code at} back to {@code start}, or an empty list. */
    private static List<String> cycleFrom(final String start, final String at, final Map<String, Set<String>> uses,
        final Deque<String> path, final Set<String> seen)
    {
        for (final String next : uses.getOrDefault(at, Set.of()))
        {
            if (next.equals(start))
            {
                final List<String> cycle = new ArrayList<>(path);
                cycle.add(next);
                return cycle;
            }
            if (seen.add(next))
            {
                path.addLast(next);
                final List<String> found = cycleFrom(start, next, uses, path, seen);
                if (!found.isEmpty())
                {
                    return found;
                }
                path.removeLast();
            }
        }
        return List.of();
    }

    /**
     * A module that must stand alone: what its sources name of Tandem outside its own package (as "File ->
     * io.tandem.x"), after checking the sources are there; and its pom names no Tandem artifact but its parent.
     */
    private static List<String> foreignReferences(final String module, final String ownPackage) throws IOException
    {
        final Path root = Path.of("..", module);
        final List<String> references = new ArrayList<>();
        int read = 0;
        try (Stream<Path> files = Files.walk(root.resolve("src/main/java")))
        {
            for (final Path file : files.filter((f) -> f.toString().endsWith(".java")).toList())
            {
                read++;
                final Matcher m = Pattern.compile("\\bio\\.tandem\\.(\\w+)").matcher(Files.readString(file));
                while (m.find())
                {
                    if (!m.group(1).equals(ownPackage))
                    {
                        references.add(file.getFileName() + " -> io.tandem." + m.group(1));
                    }
                }
            }
        }
        assertTrue(read > 0, "the check reads " + module + "'s sources");
        assertEquals(1, Files.readString(root.resolve("pom.xml")).split("<groupId>io.tandem</groupId>", -1).length - 1,
            module + ": only its parent is a Tandem artifact");
        return references;
    }

    /** The ng wire is its own module: the media plane, the benchmarks and the SIP shim use it; it uses no other. */
    @Test
    void theNgModuleUsesNoOtherTandemModule() throws IOException
    {
        assertEquals(List.of(), foreignReferences("ng-protocol", "ng"));
    }

    /** The state journal replicates tables of bytes: it names nothing of the media plane, the SIP shim or ng. */
    @Test
    void theStateJournalKnowsNothingOfMediaOrSip() throws IOException
    {
        assertEquals(List.of(), foreignReferences("state-journal", "journal"));
    }

    /**
     * The SIP shim drives media nodes over ng as Kamailio does, so any rtpengine-compatible node can stand behind
     * it: it names nothing of the media plane (sources and tests), only ng and, later, the journal. A test may start
     * the media plane as a process of its own by its class name, quoted.
     */
    @Test
    void theSipShimNeverImportsTheMediaPlane() throws IOException
    {
        final List<String> media = new ArrayList<>();
        for (final String tree : List.of("src/main/java", "src/test/java"))
        {
            try (Stream<Path> files = Files.walk(Path.of("..", "sip-shim", tree)))
            {
                for (final Path file : files.filter((f) -> f.toString().endsWith(".java")).toList())
                {
                    // A quoted class name is a process the test starts (the media plane as its own JVM), not a link
                    final Matcher m = Pattern.compile("(?<!\")\\bio\\.tandem\\.(\\w+)").matcher(Files.readString(file));
                    while (m.find())
                    {
                        if (!List.of("sip", "ng", "journal").contains(m.group(1)))
                        {
                            media.add(file.getFileName() + " -> io.tandem." + m.group(1));
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), media);
        assertTrue(!Files.readString(Path.of("..", "sip-shim", "pom.xml")).contains("<artifactId>media-plane</artifactId>"),
            "sip-shim's pom names no media-plane");
    }
}
