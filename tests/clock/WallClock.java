import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Instant;

/** For each line read, prints System.currentTimeMillis, Instant.now in epoch nanoseconds and System.nanoTime. */
public class WallClock {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        while (in.readLine() != null) {
            long millis = System.currentTimeMillis();
            Instant now = Instant.now();
            long nanos = System.nanoTime();
            System.out.println(millis + " " + (now.getEpochSecond() * 1_000_000_000L + now.getNano()) + " " + nanos);
            System.out.flush();
        }
    }
}
