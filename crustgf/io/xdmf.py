"""Xdmf (version 3) sidecar for a model file: lets ParaView/VisIt open the HDF5 mesh directly.

Two grids, both referencing datasets in the HDF5 file (by file name, so the pair can be moved
together): the volume mesh coloured by material, and the fault triangles coloured by subfault.
Xdmf's Tetrahedron_10 / Triangle_6 node orders equal VTK's, which is the model's order
(midside nodes on edges 01, 12, 02, 03, 13, 23 / 01, 12, 02), so cells are referenced as stored.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

_TOPOLOGY = {(3, 4): "Tetrahedron", (3, 10): "Tetrahedron_10", (2, 3): "Triangle", (2, 6): "Triangle_6"}


def _item(h5name: str, path: str, shape: tuple, number_type: str, precision: int) -> str:
    dims = " ".join(str(n) for n in shape)
    return (f'<DataItem Dimensions="{dims}" NumberType="{number_type}" Precision="{precision}" '
            f'Format="HDF">{escape(h5name)}:{path}</DataItem>')


def _grid(name: str, h5name: str, n_nodes: int, cells: str, cells_shape: tuple, dim: int,
          attr_name: str, attr_path: str) -> str:
    topo = _TOPOLOGY[(dim, cells_shape[1])]
    return f"""    <Grid Name="{name}" GridType="Uniform">
      <Topology TopologyType="{topo}" NumberOfElements="{cells_shape[0]}" NodesPerElement="{cells_shape[1]}">
        {_item(h5name, cells, cells_shape, "Int", 8)}
      </Topology>
      <Geometry GeometryType="XYZ">
        {_item(h5name, "/mesh/nodes", (n_nodes, 3), "Float", 8)}
      </Geometry>
      <Attribute Name="{attr_name}" AttributeType="Scalar" Center="Cell">
        {_item(h5name, attr_path, (cells_shape[0],), "Int", 4)}
      </Attribute>
    </Grid>
"""


def model_xdmf(h5name: str, n_nodes: int, cells_shape: tuple, fault_shape: tuple) -> str:
    """Xdmf text for a model file named h5name (same folder) with the given dataset shapes."""
    return (
        '<?xml version="1.0" ?>\n<Xdmf Version="3.0">\n  <Domain>\n'
        + _grid("volume", h5name, n_nodes, "/mesh/cells", cells_shape, 3, "material", "/mesh/cell_material")
        + _grid("fault", h5name, n_nodes, "/fault/cells", fault_shape, 2, "subfault", "/fault/cell_subfault")
        + "  </Domain>\n</Xdmf>\n"
    )
