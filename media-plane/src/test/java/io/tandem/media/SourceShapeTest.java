package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The shape the code keeps, checked on every module's main sources: no class file over 600 lines and no method
 * over 80, so each class holds one concern and each method reads at a glance. The sources use Allman braces, so a
 * block is a line holding only "{" and the "}" at the same indentation; a block whose header declares a type is
 * read for its members, any other block is measured.
 */
class SourceShapeTest
{
    private static final int MAX_CLASS_LINES = 600;
    private static final int MAX_METHOD_LINES = 80;
    private static final List<String> MODULES = List.of("ng-protocol", "state-journal", "media-plane", "sip-shim", "jmh-benchmarks");
    private static final Pattern TYPE_HEADER = Pattern.compile("\\b(class|interface|record|enum)\\s+\\w+");

    private static List<Path> sources() throws IOException
    {
        final List<Path> all = new ArrayList<>();
        for (final String module : MODULES)
        {
            try (Stream<Path> files = Files.walk(Path.of("..", module, "src/main/java")))
            {
                all.addAll(files.filter((f) -> f.toString().endsWith(".java")).sorted().toList());
            }
        }
        return all;
    }

    @Test
    void noClassOverSixHundredLines() throws IOException
    {
        final List<Path> files = sources();
        assertTrue(files.size() > 50, "the check reads every module's sources");
        final List<String> over = new ArrayList<>();
        for (final Path file : files)
        {
            final int lines = Files.readAllLines(file).size();
            if (lines > MAX_CLASS_LINES)
            {
                over.add(file.getFileName() + ": " + lines);
            }
        }
        assertEquals(List.of(), over);
    }

    @Test
    void noMethodOverEightyLines() throws IOException
    {
        final List<String> over = new ArrayList<>();
        int measured = 0;
        for (final Path file : sources())
        {
            final List<String> lines = Files.readAllLines(file);
            for (int i = 1; i < lines.size(); i++)
            {
                final String line = lines.get(i);
                if (!line.strip().equals("{"))
                {
                    continue;
                }
                final String indent = line.substring(0, line.indexOf('{'));
                final int end = closing(lines, i, indent);
                final String header = headerOf(lines, i);
                if (TYPE_HEADER.matcher(header).find() || header.isEmpty() || indent.isEmpty())
                {
                    continue;
                }
                if (isMember(lines, i, indent))
                {
                    measured++;
                    final int length = end - i + 1;
                    if (length > MAX_METHOD_LINES)
                    {
                        over.add(file.getFileName() + ": " + header.strip() + " (" + length + " lines)");
                    }
                }
            }
        }
        assertTrue(measured > 500, "the check measures the sources' methods: " + measured);
        assertEquals(List.of(), over);
    }

    /** The line of the "}" closing the block opened on line {@code open} at the given indentation. */
    private static int closing(final List<String> lines, final int open, final String indent)
    {
        for (int j = open + 1; j < lines.size(); j++)
        {
            final String l = lines.get(j);
            if (l.startsWith(indent + "}") && !Character.isWhitespace(l.charAt(indent.length())))
            {
                return j;
            }
        }
        return lines.size() - 1;
    }

    /** The declaration before a block: the lines above it back to the previous statement, member or comment. */
    private static String headerOf(final List<String> lines, final int open)
    {
        final StringBuilder header = new StringBuilder();
        for (int j = open - 1; j >= 0; j--)
        {
            final String l = lines.get(j).strip();
            if (l.isEmpty() || l.endsWith(";") || l.endsWith("}") || l.endsWith("{") || l.endsWith("*/") || l.startsWith("@")
                || l.startsWith("//"))
            {
                break;
            }
            header.insert(0, l + " ");
        }
        return header.toString();
    }

    /** Whether the block is a member of a type (a method, constructor or initializer), not a block inside a method. */
    private static boolean isMember(final List<String> lines, final int open, final String indent)
    {
        for (int j = open - 1; j >= 0; j--)
        {
            final String l = lines.get(j);
            if (l.strip().equals("{") && l.indexOf('{') < indent.length())
            {
                return TYPE_HEADER.matcher(headerOf(lines, j)).find();
            }
        }
        return false;
    }
}
