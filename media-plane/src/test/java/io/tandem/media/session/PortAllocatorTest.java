package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class PortAllocatorTest
{
    @Test
    void handsOutEvenPortsOldestFreedFirst()
    {
        final PortAllocator ports = new PortAllocator(30001, 30009); // 30002, 30004, 30006, 30008
        assertEquals(4, ports.capacity());
        assertEquals(30002, ports.allocate());
        assertEquals(30004, ports.allocate());
        ports.release(30002);
        assertEquals(30006, ports.allocate());
        assertEquals(30008, ports.allocate());
        assertEquals(30002, ports.allocate(), "the port freed first comes back first");
        assertEquals(PortAllocator.EXHAUSTED, ports.allocate());
        assertEquals(0, ports.available());
    }

    @Test
    void reservesAGivenPortOnceWhereverItSitsInTheRing()
    {
        final PortAllocator ports = new PortAllocator(30000, 30019); // ten pairs
        assertTrue(ports.reserve(30010));
        assertFalse(ports.reserve(30010), "taken");
        assertFalse(ports.reserve(30011), "odd");
        assertFalse(ports.reserve(29998), "below the range");
        assertFalse(ports.reserve(30020), "above the range");
        assertTrue(ports.isInUse(30010));
        assertEquals(9, ports.available());
        final Set<Integer> handedOut = new HashSet<>();
        for (int i = 0; i < 9; i++)
        {
            final int port = ports.allocate();
            assertTrue(port != 30010 && handedOut.add(port), "handed out once: " + port);
        }
        assertEquals(PortAllocator.EXHAUSTED, ports.allocate());
        ports.release(30010);
        assertFalse(ports.isInUse(30010));
        assertEquals(30010, ports.allocate());
    }

    /** Random allocate, reserve and release against a plain set: never a port twice, never one lost. */
    @Test
    void agreesWithASetUnderRandomOperations()
    {
        final PortAllocator ports = new PortAllocator(40000, 40199); // 100 pairs
        final Set<Integer> inUse = new HashSet<>();
        final List<Integer> held = new ArrayList<>();
        final Random random = new Random(16);
        for (int step = 0; step < 100_000; step++)
        {
            final int op = random.nextInt(3);
            if (op == 0)
            {
                final int port = ports.allocate();
                if (port == PortAllocator.EXHAUSTED)
                {
                    assertEquals(100, inUse.size());
                }
                else
                {
                    assertTrue(inUse.add(port), "allocated twice: " + port);
                    held.add(port);
                }
            }
            else if (op == 1)
            {
                final int port = 40000 + 2 * random.nextInt(100);
                assertEquals(!inUse.contains(port), ports.reserve(port));
                if (inUse.add(port))
                {
                    held.add(port);
                }
            }
            else if (!held.isEmpty())
            {
                final int port = held.remove(random.nextInt(held.size()));
                inUse.remove(port);
                ports.release(port);
            }
            assertEquals(100 - inUse.size(), ports.available());
        }
        for (int port = 40000; port < 40200; port += 2)
        {
            assertEquals(inUse.contains(port), ports.isInUse(port), "port " + port);
        }
    }
}
