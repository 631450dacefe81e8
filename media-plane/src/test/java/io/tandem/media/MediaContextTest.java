package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MediaContextTest
{
    @Test
    void rejectsAnInvertedPortRange()
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> new MediaContext().portRange(40000, 30000).conclude());
        assertTrue(ex.getMessage().contains("40000"), ex.getMessage());
    }

    @Test
    void rejectsAnUnknownIdleStrategy()
    {
        assertThrows(IllegalArgumentException.class, () -> new MediaContext().idle("yield-forever").conclude());
    }

    @Test
    void advertisedAddressDefaultsToTheBindAddress()
    {
        final MediaContext ctx = new MediaContext().bindAddress("127.0.0.2").conclude();
        assertEquals("127.0.0.2", ctx.advertisedAddress());
    }
}
