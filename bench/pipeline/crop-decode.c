/*
 * Issue 21: what decoding only RandomResizedCrop's rectangle would buy, measured before building it. libjpeg-turbo's
 * libjpeg API (jpeg_crop_scanline for the columns, jpeg_skip_scanlines for the rows above, abort after the last row
 * needed) against a full decode of the same files, one thread, the crops drawn as torchvision's RandomResizedCrop
 * draws them (scale 0.08-1, log-uniform ratio 3/4-4/3, ten tries, then the whole image). First checks that every
 * crop's pixels equal the full decode's with the given margin around the rectangle (without one, fancy upsampling at
 * the cropped edges differs), then times both for 2 s per measurement, three rounds.
 * Usage: crop-decode MARGIN_PX DIR (DIR holds 0.jpg ... 63.jpg; bench/pipeline/crop-decode.sh makes them and runs this)
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include <jpeglib.h>

#define IMAGES 64
static unsigned char *files[IMAGES];
static unsigned long lengths[IMAGES];
static unsigned char *whole;
static unsigned char row[1 << 16];

typedef struct { int x, y, w, h; } rect;

static double seconds(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static rect random_resized_crop(int width, int height)
{
    for (int i = 0; i < 10; i++) {
        double area = width * height * (0.08 + 0.92 * drand48());
        double ratio = exp(log(3. / 4) + drand48() * (log(4. / 3) - log(3. / 4)));
        int w = (int) lround(sqrt(area * ratio)), h = (int) lround(sqrt(area / ratio));
        if (w > 0 && h > 0 && w <= width && h <= height) {
            rect r = { (int) (drand48() * (width - w + 1)), (int) (drand48() * (height - h + 1)), w, h };
            return r;
        }
    }
    rect r = { 0, 0, width, height };
    return r;
}

static void open_jpeg(struct jpeg_decompress_struct *c, struct jpeg_error_mgr *e, int i)
{
    c->err = jpeg_std_error(e);
    jpeg_create_decompress(c);
    jpeg_mem_src(c, files[i], lengths[i]);
    jpeg_read_header(c, TRUE);
    c->out_color_space = JCS_RGB;
    jpeg_start_decompress(c);
}

static void decode_whole(int i, unsigned char *dst)
{
    struct jpeg_decompress_struct c; struct jpeg_error_mgr e;
    open_jpeg(&c, &e, i);
    while (c.output_scanline < c.output_height) {
        JSAMPROW r = dst + (size_t) c.output_scanline * c.output_width * 3;
        jpeg_read_scanlines(&c, &r, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
}

/* Decodes the rows and columns of r plus margin; with check, compares r's pixels with whole (this image decoded). */
static void decode_crop(int i, rect r, int margin, int check)
{
    struct jpeg_decompress_struct c; struct jpeg_error_mgr e;
    open_jpeg(&c, &e, i);
    int width = c.output_width, height = c.output_height;
    int x0 = r.x - margin < 0 ? 0 : r.x - margin, x1 = r.x + r.w + margin > width ? width : r.x + r.w + margin;
    int y0 = r.y - margin < 0 ? 0 : r.y - margin, y1 = r.y + r.h + margin > height ? height : r.y + r.h + margin;
    JDIMENSION xoffset = x0, cropped = x1 - x0;
    jpeg_crop_scanline(&c, &xoffset, &cropped);
    if (y0 > 0) jpeg_skip_scanlines(&c, y0);
    while ((int) c.output_scanline < y1) {
        int y = c.output_scanline; JSAMPROW p = row;
        jpeg_read_scanlines(&c, &p, 1);
        if (check && y >= r.y && y < r.y + r.h)
            for (int x = r.x; x < r.x + r.w; x++)
                for (int k = 0; k < 3; k++)
                    if (row[(x - xoffset) * 3 + k] != whole[((size_t) y * width + x) * 3 + k]) {
                        printf("pixels differ: image %d at (%d,%d), margin %d, crop %d,%d %dx%d\n", i, x, y, margin,
                            r.x, r.y, r.w, r.h);
                        exit(1);
                    }
    }
    jpeg_abort_decompress(&c);
    jpeg_destroy_decompress(&c);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: crop-decode MARGIN_PX DIR\n"); return 2; }
    int margin = atoi(argv[1]);
    for (int i = 0; i < IMAGES; i++) {
        char path[4096]; snprintf(path, sizeof path, "%s/%d.jpg", argv[2], i);
        FILE *f = fopen(path, "rb");
        if (!f) { perror(path); return 1; }
        fseek(f, 0, SEEK_END); lengths[i] = ftell(f); rewind(f);
        files[i] = malloc(lengths[i]);
        if (fread(files[i], 1, lengths[i], f) != lengths[i]) { perror(path); return 1; }
        fclose(f);
    }
    whole = malloc(8192 * 8192 * 3);
    srand48(1);
    for (int i = 0; i < IMAGES; i++) {
        struct jpeg_decompress_struct c; struct jpeg_error_mgr e;
        open_jpeg(&c, &e, i);
        int width = c.output_width, height = c.output_height;
        jpeg_abort_decompress(&c); jpeg_destroy_decompress(&c);
        decode_whole(i, whole);
        for (int k = 0; k < 50; k++) decode_crop(i, random_resized_crop(width, height), margin, 1);
    }
    printf("pixels: %d crops of each of %d images equal the full decode's with a %d-px margin\n", 50, IMAGES, margin);
    for (int round = 1; round <= 3; round++) {
        double t = seconds(); long n = 0;
        while (seconds() - t < 2) decode_whole(n++ % IMAGES, whole);
        double full = n / (seconds() - t);
        t = seconds(); n = 0;
        while (seconds() - t < 2) {
            struct jpeg_decompress_struct c; struct jpeg_error_mgr e;
            open_jpeg(&c, &e, n % IMAGES);
            int width = c.output_width, height = c.output_height;
            jpeg_abort_decompress(&c); jpeg_destroy_decompress(&c);
            decode_crop(n++ % IMAGES, random_resized_crop(width, height), margin, 0);
        }
        double crop = n / (seconds() - t);
        printf("RESULT round=%d full=%.1f img/s crop=%.1f img/s crop/full=%.2f\n", round, full, crop, crop / full);
    }
    return 0;
}
