package io.tandem.media;

import java.io.File;
import java.nio.file.Path;

/** Media plane contexts for tests: the sessions and counters files in the test's own temporary directory. */
public final class TestContexts
{
    private TestContexts()
    {
    }

    public static MediaContext media(final Path dir)
    {
        return new MediaContext()
            .sessionsFile(new File(dir.toFile(), "sessions.cm3"))
            .countersFile(new File(dir.toFile(), "counters.dat"));
    }
}
