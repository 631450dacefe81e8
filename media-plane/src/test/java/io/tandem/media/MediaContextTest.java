package io.tandem.media;

import io.tandem.media.session.InterfaceSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

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

    @Test
    void withoutInterfacesThereIsADefaultOneFromTheBindAddressAndPortRange()
    {
        final MediaContext ctx = new MediaContext().bindAddress("127.0.0.1").advertisedAddress("192.0.2.1")
            .portRange(20000, 20999).conclude();
        assertEquals(List.of(new InterfaceSpec("default", "127.0.0.1", "192.0.2.1", 20000, 20999)), ctx.interfaceSpecs());
    }

    @Test
    void interfacesAreParsedWithOptionalAdvertisedAddressAndRange()
    {
        final MediaContext ctx = new MediaContext().portRange(30000, 39999)
            .addInterface("external/10.0.0.5!203.0.113.5/40000-40999")
            .addInterface("internal/2001:db8::1").conclude();
        assertEquals(List.of(
            new InterfaceSpec("external", "10.0.0.5", "203.0.113.5", 40000, 40999),
            new InterfaceSpec("internal", "2001:db8::1", "2001:db8::1", 30000, 39999)), ctx.interfaceSpecs());
    }

    @Test
    void badInterfacesAreRejectedWithTheReason()
    {
        assertThrows(IllegalArgumentException.class, () -> new MediaContext().addInterface("nameonly").conclude());
        assertThrows(IllegalArgumentException.class, () -> new MediaContext().addInterface("x/10.0.0.1/9-").conclude());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MediaContext()
            .addInterface("a/10.0.0.1/30000-30999").addInterface("a/10.0.0.2").conclude())
            .getMessage().contains("defined twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MediaContext()
            .addInterface("a/10.0.0.1/30000-30999").addInterface("b/10.0.0.1/30500-31999").conclude())
            .getMessage().contains("overlapping"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MediaContext()
            .addInterface("a/0.0.0.0/30000-30999").addInterface("b/10.0.0.1/30000-30999").conclude())
            .getMessage().contains("wildcard"));
    }

    @Test
    void theTransportIsEpollOnLinuxUnlessNioIsAskedFor()
    {
        assertEquals("epoll", new MediaContext().conclude().transportName()); // these tests run on Linux with the flags
        assertEquals("nio", new MediaContext().transport("nio").conclude().transportName());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MediaContext().transport("xdp").conclude())
            .getMessage().contains("epoll or nio"));
    }

    @Test
    void interfacesOnDifferentAddressesMayShareAPortRange()
    {
        final MediaContext ctx = new MediaContext()
            .addInterface("external/10.0.0.1/30000-39999").addInterface("internal/10.0.0.2/30000-39999").conclude();
        assertEquals(2, ctx.interfaceSpecs().size());
    }
}
