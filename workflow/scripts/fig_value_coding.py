import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.value_coding import draw_city_map, draw_fourier_spectrum
from bows.jobs import run


def draw(city_map, fourier, **inputs):
    return draw_city_map(inputs["cities"], inputs["city"], snakemake.params.figures, city_map) + draw_fourier_spectrum(
        inputs["power"], inputs["modular"], snakemake.params.figures, fourier
    )


run(
    snakemake,
    draw,
    city_map=[snakemake.output.city_map, *snakemake.output.city_map_other],
    fourier=[snakemake.output.fourier, *snakemake.output.fourier_other],
    **dict(snakemake.input.items()),
)
