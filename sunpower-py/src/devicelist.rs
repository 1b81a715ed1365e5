//! `parse_device_list`: a DeviceList JSON document of the PVS local API as records, with the
//! problems of its devices.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use sunpower_proto::parse_device_list as parse;

use crate::devices::Battery;
use crate::errors;
use crate::problem::DocumentProblem;
use crate::record::Record;
use crate::value::document_bytes;

/// A decoded DeviceList document. Immutable. Iterating it (and `len()`) goes over its records.
#[pyclass(module = "sunpower", name = "DeviceList", frozen)]
pub struct DeviceList {
    records: Py<PyTuple>,
    batteries: Py<PyTuple>,
    problems: Py<PyTuple>,
    withheld: usize,
}

#[pymethods]
impl DeviceList {
    /// The records, in device order: 120 for the supervisor, 130 per inverter, 140 (and 141)
    /// per meter.
    #[getter]
    fn records(&self, py: Python<'_>) -> Py<PyTuple> {
        self.records.clone_ref(py)
    }

    /// The batteries (`DEVICE_TYPE` `Energy Storage System` and `Battery`), in device order.
    #[getter]
    fn batteries(&self, py: Python<'_>) -> Py<PyTuple> {
        self.batteries.clone_ref(py)
    }

    /// Problems with single devices, as `DocumentProblem` objects at their `device` (and
    /// `serial`); `str()` of each is its message (`"device 3 (E00121838012345): DATATIME:
    /// ..."`). A device without a serial or a readable time gave no record; any other bad value
    /// cost only its field.
    #[getter]
    fn problems(&self, py: Python<'_>) -> Py<PyTuple> {
        self.problems.clone_ref(py)
    }

    /// Keys and values shaped like MAC addresses, withheld from every record and problem (a
    /// device whose serial is one keeps its records under `withheld-device-<index>`).
    #[getter]
    fn withheld(&self) -> usize {
        self.withheld
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.records.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.records
            .bind(py)
            .as_any()
            .try_iter()
            .map(Bound::into_any)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "DeviceList({} records, {} problems)",
            self.records.bind(py).len(),
            self.problems.bind(py).len()
        )
    }
}

/// Decodes a DeviceList document (`bytes` or `str`) into the same records as the plain-text
/// stream: 120 for the supervisor, 130 per inverter, 140 (and 141) per meter.
///
/// A document that is not a DeviceList, or says `"result": "failed"`, raises `DecodeError`.
/// A device that cannot be decoded, or is not working, is in `problems` and logged on the
/// `sunpower` logger, and the others are returned; devices of unknown type are logged.
#[pyfunction]
pub fn parse_device_list(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<DeviceList> {
    let document = document_bytes(data, sunpower_proto::DocumentLimits::default().max_bytes)?;
    let bytes = document.as_bytes();
    let list = py
        .detach(|| parse(bytes))
        .map_err(|e| errors::document_error(py, &e))?;
    for problem in &list.problems {
        errors::log_warning(py, &problem.to_string())?;
    }
    for device in &list.unknown {
        errors::log_warning(
            py,
            &format!(
                "device {} of unknown type {:?} not decoded",
                device.index,
                device.device_type.as_deref().unwrap_or("")
            ),
        )?;
    }
    DeviceList::from_core(py, &list)
}

/// One item of a DeviceList, as the stages take it.
pub(crate) enum ListItem<'a> {
    Record(&'a Record),
    Battery(&'a Battery),
}

impl DeviceList {
    /// Hands its records, then its batteries, to `f`: the order `sunpower intervals
    /// --devicelist` feeds them to the stages in.
    pub(crate) fn feed(
        &self,
        py: Python<'_>,
        mut f: impl FnMut(ListItem<'_>) -> PyResult<()>,
    ) -> PyResult<()> {
        for item in self.records.bind(py).iter() {
            f(ListItem::Record(item.cast::<Record>()?.get()))?;
        }
        for item in self.batteries.bind(py).iter() {
            f(ListItem::Battery(item.cast::<Battery>()?.get()))?;
        }
        Ok(())
    }

    /// The Python object of a decoded DeviceList.
    pub(crate) fn from_core(py: Python<'_>, list: &sunpower_proto::DeviceList) -> PyResult<Self> {
        let records = list.records.iter().map(|r| Record::new(&r.record(), None));
        let problems = list.problems.iter().map(DocumentProblem::new);
        let batteries = list.batteries.iter().map(|b| Battery::new(b.clone()));
        Ok(DeviceList {
            records: PyTuple::new(py, records)?.unbind(),
            batteries: PyTuple::new(py, batteries)?.unbind(),
            problems: PyTuple::new(py, problems)?.unbind(),
            withheld: list.withheld,
        })
    }
}
